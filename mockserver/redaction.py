"""One redaction for everything the mock and the proxy show of a request: the journal
(GET /__mock/requests) and the proxy's violations, their JSON and JUnit reports and
curl lines. Every secret becomes MARKER; the name it was sent under stays.

What is secret:

- a value under a *secret name*: a header, a query parameter (in a URL too, and in its
  fragment), a JSON key at any depth, a form or multipart field, or a `name: value` /
  `name=value` pair in text. A name is secret when one of its words (split at `-`, `_`,
  `.`, digits and camelCase: `X-Api-Key` is x, api, key; `refreshToken` is refresh,
  token) contains one of SECRET_WORDS, case-insensitively, or when it is one of the
  contract's own apiKey names (`extra_names`), whatever they are.
- a value that looks like a credential wherever it is, under any name: the mock's
  refresh tokens (`rt_` and URL-safe base64), JWTs (JWS and JWE: `eyJ` and dot-separated
  base64url segments), and the password of a URL's user info (`https://u:pw@host`).

The whole value under a secret name is replaced, whatever its type: a number, an array,
an object. A body is read as JSON whatever its declared type when it looks like an
object or an array; otherwise as a form, multipart or text (`name: value`, `name=value`,
`"name": value` pairs, XML elements).

False positives are chosen over leaks: the journal and the reports are shared (CI
artifacts, screenshots), and a value hidden from a developer is one look at the
response away. So the words match inside words (`passwd`, `apikey`, `xsig`), and
`tokenType`, `keyVersion`, `sessionId`, `max_tokens` or `signedAt` are redacted too.
Only words that merely contain a secret word and are never credentials are not
(INNOCENT_WORDS: `keyword`, `author`, `authenticated`, `design`, `signal`, ...), nor a
public key (`identityPublicKey`, `public_key`): the E2EE operations of the contract
show those, and a public key is public.

A violation's `seen` and `message` may echo what was sent ("'hunter2' is too short"):
`scrubber` replaces in them every secret value found in the exchange's redaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from werkzeug.http import parse_options_header

from mockserver.pipeline.validate.json_body import strict_json_loads

MARKER = "[redacted]"
SECRET_WORDS = (
    "token",
    "secret",
    "key",
    "pass",
    "pwd",
    "auth",
    "session",
    "cookie",
    "sig",
    "jwt",
    "credential",
)
INNOCENT_WORDS = frozenset(
    {
        "keyword",
        "keywords",
        "keyboard",
        "monkey",
        "author",
        "authors",
        "authored",
        "authority",
        "authenticate",  # WWW-Authenticate: the challenge, not a credential
        "authenticated",
        "design",
        "designer",
        "signal",
        "signals",
        "assign",
        "assigned",
        "assignee",
        "assignment",
        "passenger",
        "passengers",
        "compass",
    }
)
# At most this many secret values are looked for in a violation's seen and message.
MAX_SCRUBBED_VALUES = 256
SHORT_VALUE_CHARS = 3
HEAD_CHARS = 12

_NUMBER = re.compile(r"-?[0-9][0-9.eE+-]*")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SECRET_WORD = re.compile("|".join(SECRET_WORDS))
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_-])(?:rt_[A-Za-z0-9_-]{6,}|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)*)"
)
_USERINFO_PASSWORD = re.compile(r"(?<=://)([^/\s:@]*):[^/\s@]+@")
# A name and its separator in text: "name": / 'name': / name= / name: (a name starts
# where no name character precedes it, so a long word is tried once).
_PAIR = re.compile(
    r"""(?:"((?:[^"\\\n]|\\.){1,200})"|'((?:[^'\\\n]|\\.){1,200})'|(?<![\w.\-])([\w.\-]{1,200}))[ \t]*([:=])[ \t]*"""
)
# An XML element with text only: <password>hunter2</password>.
_XML_ELEMENT = re.compile(r"<([A-Za-z_][\w.:-]{0,200})(\s[^<>]{0,1000})?>([^<]+)</\1\s*>")
_BARE_END = {"=": re.compile(r"[&;,\s]"), ":": re.compile(r"[,;}\]\r\n]")}
_PART_NAME = re.compile(r"""\bname\s*=\s*(?:"([^"]*)"|([^;\s]+))""", re.IGNORECASE)


@lru_cache(maxsize=4096)
def secret_word_in(name: str) -> bool:
    """Whether a name is secret by its words (the extra names aside)."""
    words = [word.lower() for word in _WORDS.findall(name)]
    for index, word in enumerate(words):
        if word in INNOCENT_WORDS or not _SECRET_WORD.search(word):
            continue
        if word == "key" and index > 0 and words[index - 1] == "public":
            continue
        return True
    return False


def redact_tokens(text: str, found: set[str] | None = None) -> str:
    """`text` with every token-looking value (rt_..., JWTs, a URL's password) replaced."""

    def token(match: re.Match) -> str:
        if found is not None:
            found.add(match.group())
        return MARKER

    def userinfo(match: re.Match) -> str:
        if found is not None:
            found.add(match.group()[len(match.group(1)) + 1 : -1])
        return f"{match.group(1)}:{MARKER}@"

    if "rt_" in text or "eyJ" in text:
        text = _TOKEN.sub(token, text)
    if "://" in text:
        text = _USERINFO_PASSWORD.sub(userinfo, text)
    return text


def contract_names(security_schemes: Mapping[str, Any]) -> list[str]:
    """The names of a contract's apiKey schemes (header, query parameter or cookie)."""
    return [
        str(scheme["name"])
        for scheme in security_schemes.values()
        if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and scheme.get("name")
    ]


class Redactor:
    """Redaction by the rules above; `extra_names` are secret too (the contract's apiKey names).

    Each method takes an optional set `found` and adds to it the secret values it
    replaced, for `scrubber`."""

    def __init__(self, extra_names: Iterable[str] = ()) -> None:
        self.extra_names = frozenset(name.lower() for name in extra_names)
        # Text holds a secret name only if it holds one of these: most text is passed at once.
        self._hints = (*SECRET_WORDS, *sorted(self.extra_names))

    def is_secret(self, name: str) -> bool:
        return name.lower() in self.extra_names or secret_word_in(name)

    # --- names and values ---------------------------------------------------------------

    def headers(self, pairs: Iterable[tuple[str, str]], found: set[str] | None = None) -> list[tuple[str, str]]:
        redacted = []
        for name, value in pairs:
            if self.is_secret(name):
                _add(found, value)
                redacted.append((name, MARKER))
            else:
                redacted.append((name, self.text(value, found)))
        return redacted

    def query(self, query: str, found: set[str] | None = None) -> str:
        """A raw query string (or fragment) with the values of secret names replaced."""
        pairs = []
        for pair in query.split("&"):
            name, equals, value = pair.partition("=")
            if equals and self.is_secret(unquote_plus(name)):
                _add(found, unquote_plus(value))
                pairs.append(f"{name}={MARKER}")
            elif equals and value:
                shown = self.text(unquote_plus(value), found)
                pairs.append(pair if shown == unquote_plus(value) else f"{name}={MARKER}")
            else:
                pairs.append(pair)
        return "&".join(pairs)

    def query_value(self, name: str, value: str, found: set[str] | None = None) -> str:
        """One parsed query parameter's value."""
        if self.is_secret(name):
            _add(found, value)
            return MARKER
        return self.text(value, found)

    def url(self, url: str, found: set[str] | None = None) -> str:
        """A URL or a request target: its query and fragment redacted, tokens in its path too."""
        rest, hash_sign, fragment = url.partition("#")
        path, question_mark, query = rest.partition("?")
        path = redact_tokens(path, found)
        query = self.query(query, found) if question_mark else ""
        fragment = self.query(fragment, found) if hash_sign else ""
        return f"{path}{question_mark}{query}{hash_sign}{fragment}"

    # --- bodies ---------------------------------------------------------------------------

    def json(self, value: Any, found: set[str] | None = None) -> Any:
        """A JSON value with everything under a secret key replaced, tokens in strings too."""
        if isinstance(value, dict):
            redacted = {}
            for key, item in value.items():
                if self.is_secret(str(key)):
                    _add_leaves(found, item)
                    redacted[redact_tokens(str(key), found)] = MARKER
                else:
                    redacted[redact_tokens(str(key), found)] = self.json(item, found)
            return redacted
        if isinstance(value, list):
            return [self.json(item, found) for item in value]
        if isinstance(value, str):
            return self.text(value, found)
        return value

    def body(
        self, data: bytes, content_type: str | None, found: set[str] | None = None, text_chars: int | None = None
    ) -> Any:
        """A body for display: a JSON object or array as parsed when the declared type is
        JSON, else re-serialised as text; a form, multipart or other text as text (bytes
        that are not UTF-8 replaced by U+FFFD), cut to `text_chars` first if given (the
        work is in the text); redacted all the same. None when empty."""
        if not data:
            return None
        mimetype, options = parse_options_header(content_type or "")
        document = _json_document(data, any_value="json" in mimetype)
        if document is not _NOT_JSON:
            redacted = self.json(document, found)
            return redacted if "json" in mimetype else json.dumps(redacted, ensure_ascii=False)
        text = data[: None if text_chars is None else 4 * text_chars].decode("utf-8", errors="replace")[:text_chars]
        if mimetype == "application/x-www-form-urlencoded":
            return self.query(text, found)
        if mimetype.startswith("multipart/") and options.get("boundary"):
            return self._multipart(text, options["boundary"], found)
        return self.text(text, found)

    def text(self, text: str, found: set[str] | None = None) -> str:
        """Free text (a body that is not JSON, a header value, a message): the values of
        secret-named pairs (`"name": value`, `name=value`, `name: value`, XML elements
        `<name>value</name>`) and tokens replaced."""
        if not text:
            return text
        lowered = text.lower()
        for hint in self._hints:
            if hint in lowered:
                break
        else:
            return redact_tokens(text, found)
        pieces, shown, position = [], 0, 0  # text[:shown] is in pieces; the search goes on at position
        while True:
            match = _PAIR.search(text, position)
            if match is None:
                break
            name = next(group for group in match.groups()[:3] if group is not None)
            start = position = match.end()
            if not self.is_secret(name):
                continue
            end = _value_end(text, start, match.group(4))
            if end == start:
                continue
            value = text[start:end]
            quoted = value[0] in "\"'" and len(value) > 1 and value[-1] == value[0]
            _add(found, value[1:-1] if quoted else value[1:] if value[0] in "\"'" else value)
            pieces += [text[shown:start], f"{value[0]}{MARKER}{value[0]}" if quoted else MARKER]
            shown = position = end
        pieces.append(text[shown:])
        text = "".join(pieces)
        if "</" in text:
            text = _XML_ELEMENT.sub(lambda match: self._element(match, found), text)
        return redact_tokens(text, found)

    def _element(self, match: re.Match, found: set[str] | None) -> str:
        name, attributes, content = match.groups()
        if not self.is_secret(name.rpartition(":")[2]):
            return match.group()
        _add(found, content)
        return f"<{name}{attributes or ''}>{MARKER}</{name}>"

    def _multipart(self, text: str, boundary: str, found: set[str] | None) -> str:
        parts = text.split(f"--{boundary}")
        for index in range(1, len(parts)):
            part = parts[index]
            head, separator, content = part.partition("\r\n\r\n")
            if not separator:
                head, separator, content = part.partition("\n\n")
            if not separator:
                continue
            disposition = next((line for line in head.splitlines() if "content-disposition" in line.lower()), "")
            name = _PART_NAME.search(disposition)
            if name is not None and self.is_secret(name.group(1) or name.group(2) or ""):
                value = content.rstrip("\r\n")
                _add(found, value)
                content = MARKER + content[len(value) :]
            else:
                content = self.text(content, found)
            parts[index] = head + separator + content
        return f"--{boundary}".join(parts)

    # --- what a finding echoes ------------------------------------------------------------

    def scrubber(self, secrets: Collection[str]) -> Callable[[Any], Any]:
        """A function that redacts a violation's seen or message: every value of `secrets`
        (what the exchange's redaction replaced) replaced wherever it occurs, then the whole
        redacted as text. A value is found by its first HEAD_CHARS characters and replaced
        as far as it goes on, so an echo cut short (`'rt_abc...` of seen_text) goes too; one
        shorter than SHORT_VALUE_CHARS only where quoted ("7" is in many messages)."""
        values = sorted({value for value in secrets if value.strip()}, key=len, reverse=True)[:MAX_SCRUBBED_VALUES]
        numbers = {value for value in values if _NUMBER.fullmatch(value)}
        forms: dict[str, list[str]] = {}  # a pattern's text -> the values it may start
        patterns = []
        for value in values:
            for escaped in {value, json.dumps(value)[1:-1], repr(value)[1:-1]}:
                if len(value) < SHORT_VALUE_CHARS:
                    quoted = [quote + escaped + quote for quote in "'\""]
                    for form in quoted:
                        forms.setdefault(form, []).append(form)
                    patterns += [re.escape(form) for form in quoted]
                elif len(escaped) <= HEAD_CHARS:
                    forms.setdefault(escaped, []).append(escaped)
                    patterns.append(_bounded(escaped, end=True))
                else:
                    forms.setdefault(escaped[:HEAD_CHARS], []).append(escaped)
                    patterns.append(_bounded(escaped[:HEAD_CHARS], end=False))
        # Longest first: a value is replaced rather than a shorter one within it.
        pattern = re.compile("|".join(sorted(set(patterns), key=len, reverse=True))) if patterns else None

        def replace(text: str) -> str:
            if pattern is None:
                return text
            pieces, shown = [], 0
            for match in pattern.finditer(text):
                start = match.start()
                if start < shown:
                    continue
                length = max(_common_prefix(text, start, form) for form in forms[match.group()])
                pieces += [text[shown:start], MARKER]
                shown = start + length
            pieces.append(text[shown:])
            return "".join(pieces)

        def scrub(value: Any) -> Any:
            if isinstance(value, str):
                return self.text(replace(value))
            if isinstance(value, dict):
                return self.json({key: scrub(item) for key, item in value.items()})
            if isinstance(value, list):
                return [scrub(item) for item in value]
            if isinstance(value, int | float) and not isinstance(value, bool) and json.dumps(value) in numbers:
                return MARKER
            return value

        return scrub


_NOT_JSON = object()


def _json_document(data: bytes, any_value: bool) -> Any:
    """The body as JSON (the mock's strict reader, so its limits hold), if it is an object
    or an array, or any JSON value when `any_value` (a JSON type declared); _NOT_JSON otherwise."""
    if not any_value and data.lstrip()[:1] not in (b"{", b"["):
        return _NOT_JSON
    try:
        return strict_json_loads(data)
    except ValueError:
        return _NOT_JSON


def _value_end(text: str, start: int, separator: str) -> int:
    """Where the value starting at `start` ends: a quoted string, a bracketed structure
    (to its closing bracket, strings skipped), or a bare value; the end of the text if cut."""
    if start >= len(text):
        return start
    first = text[start]
    if first in "\"'":
        index = start + 1
        while index < len(text):
            if text[index] == "\\":
                index += 2
                continue
            if text[index] == first:
                return index + 1
            index += 1
        return len(text)
    if first in "[{":
        depth, index, quote = 0, start, None
        while index < len(text):
            char = text[index]
            if quote is not None:
                if char == "\\":
                    index += 1
                elif char == quote:
                    quote = None
            elif char in "\"'":
                quote = char
            elif char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
        return len(text)
    end = _BARE_END[separator].search(text, start)
    return (end.start() if end else len(text)) if separator == "=" else _trim(text, start, end)


def _trim(text: str, start: int, end: re.Match | None) -> int:
    stop = end.start() if end else len(text)
    while stop > start and text[stop - 1] in " \t":
        stop -= 1
    return stop


def _bounded(form: str, end: bool) -> str:
    """A secret value (or its head: not `end`) as a pattern that does not match inside a longer word."""
    before = r"(?<![A-Za-z0-9_])" if re.match(r"\w", form[0]) else ""
    after = r"(?![A-Za-z0-9_])" if end and re.match(r"\w", form[-1]) else ""
    return before + re.escape(form) + after


def _common_prefix(text: str, start: int, form: str) -> int:
    """How many characters of `form` text[start:] begins with (its head, at least)."""
    low, high = 0, min(len(form), len(text) - start)
    while low < high:
        middle = (low + high + 1) // 2
        if text[start : start + middle] == form[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _add(found: set[str] | None, value: str) -> None:
    if found is not None and value:
        found.add(value)


def _add_leaves(found: set[str] | None, value: Any) -> None:
    if found is None:
        return
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            _add(found, item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            _add(found, json.dumps(item))
