"""Every credential the suite holds, and the one redaction of everything it prints.

`SECRETS` is filled as the suite learns each value: the suite's token, the member's and
the outsider's, an expired token, CONTRACT_JWT_SECRET (or the secret of the project's
mock), each password it logs in with, CONTRACT_API_KEY, CONTRACT_BASIC (and its base64
form), and the tokens and refresh tokens login and refresh answers hand it. Then:

- `shell_join` writes a curl line with each of them as the variable a reader sets
  (`"Authorization: Bearer $CONTRACT_TOKEN"`, in double quotes so that the shell expands
  it), a value of no variable as a description (`[a refresh token]`);
- `redact` rewrites any text the suite prints: each value as `$VARIABLE`, a fragment of
  one that a cut left (`eyJhbGciOiJIUzI1NiIs...`, pytest's repr of a long value), and
  any other JWT or `rt_` refresh token (a forged token, one signed with the secret) as
  `[token redacted]`;
- `redact_report` applies it to a pytest report (its longrepr, captured output and
  sections) before the terminal or the JUnit XML sees it (conftest.py).
"""

from __future__ import annotations

import base64
import re
import shlex
import threading
from typing import Any

MIN_SECRET_CHARS = 6  # a shorter value is no credential worth the noise of replacing it
MIN_FRAGMENT_CHARS = 8  # the shortest cut-off part of a value that is replaced
TOKEN_MARK = "[token redacted]"
# A JWT (or the start of one: base64url JSON begins "eyJ"), or the mock's refresh token.
TOKEN = re.compile(r"(?<![A-Za-z0-9_-])(?:rt_[A-Za-z0-9_-]{6,}|eyJ[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*){0,2})")
CUT = ("...", "\u2026")  # how pytest and the suite mark a value cut short


class Secrets:
    """The values to redact, each with its label: `$VARIABLE` for one the environment
    gives (or stands for), else a description in brackets."""

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}
        self._shell: dict[str, str] = {}  # value -> how a shell line writes it, where not its label
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str | None, name: str, shell: str | None = None) -> None:
        """Redact `value` as `name`: a variable (CONTRACT_TOKEN, printed $CONTRACT_TOKEN) or
        a description ("[a refresh token]"). A variable's name wins over a description."""
        if not isinstance(value, str) or len(value) < MIN_SECRET_CHARS:
            return
        label = name if name.startswith("[") else "$" + name
        with self._lock:
            known = self._labels.get(value)
            if known is not None and not (known.startswith("[") and not label.startswith("[")):
                return
            self._labels[value] = label
            if shell:
                self._shell[value] = shell
            self._pattern = None

    def add_basic(self, basic: str | None, name: str = "CONTRACT_BASIC") -> None:
        """`user:password`, and the base64 of it an Authorization header carries."""
        if basic:
            self.add(basic, name)
            encoded = base64.b64encode(basic.encode()).decode()
            self.add(encoded, f"[the base64 of ${name}]", shell=f'$(printf %s "${name}" | base64)')

    def learn(self, body: Any) -> None:
        """The tokens of a login's or a refresh's answer (`token`, `refreshToken`, ...)."""
        if isinstance(body, dict):
            for key in ("token", "accessToken", "access_token", "idToken", "id_token"):
                self.add(body.get(key), "[a token of a login]")
            for key in ("refreshToken", "refresh_token"):
                self.add(body.get(key), "[a refresh token]")

    def learn_from(self, response: Any) -> None:
        """`learn` of a requests.Response's JSON body, if it has one."""
        if "json" in response.headers.get("Content-Type", ""):
            try:
                self.learn(response.json())
            except ValueError:
                return

    def values(self) -> dict[str, str]:
        with self._lock:
            return dict(self._labels)

    def _known(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._labels:
                ordered = sorted(self._labels, key=len, reverse=True)
                self._pattern = re.compile("|".join(map(re.escape, ordered)))
            return self._pattern

    # --- text ------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """`text` with every known value, every cut-off fragment of one, and every other
        token replaced."""
        if not text:
            return text
        labels = self.values()
        pattern = self._known()
        if pattern is not None:
            text = pattern.sub(lambda match: labels[match.group()], text)
            text = self._fragments(text, labels)
        return TOKEN.sub(TOKEN_MARK, text)

    def _fragments(self, text: str, labels: dict[str, str]) -> str:
        """A value's start before a cut (`...`, a line's or a quote's end), or its end after
        one, at least MIN_FRAGMENT_CHARS long, as its label."""
        for value, label in sorted(labels.items(), key=lambda item: -len(item[0])):
            if len(value) <= MIN_FRAGMENT_CHARS:
                continue
            text = _replace_cut_prefixes(text, value, label)
            text = _replace_cut_suffixes(text, value, label)
        return text

    # --- shell lines -----------------------------------------------------------------

    def shell_word(self, text: str) -> str:
        """`text` as one shell word: each known value as its variable (in double quotes,
        so the shell expands it), everything else literal."""
        pattern = self._known()
        if pattern is None or not pattern.search(text):
            return shlex.quote(self.redact(text))
        labels, shell = self.values(), dict(self._shell)
        out, last = [], 0
        for match in pattern.finditer(text):
            out.append(_double_quoted(self.redact(text[last : match.start()])))
            value = match.group()
            label = shell.get(value, labels[value])
            out.append(label if label.startswith("$") else _double_quoted(label))
            last = match.end()
        out.append(_double_quoted(self.redact(text[last:])))
        return '"' + "".join(out) + '"'

    def shell_join(self, parts: list[str]) -> str:
        return " ".join(self.shell_word(part) for part in parts)


def _double_quoted(text: str) -> str:
    """`text` escaped for the inside of a double-quoted shell word."""
    return re.sub(r'([\\"$`])', r"\\\1", text)


def _replace_cut_prefixes(text: str, value: str, label: str) -> str:
    head = value[:MIN_FRAGMENT_CHARS]
    start = text.find(head)
    while start != -1:
        length = MIN_FRAGMENT_CHARS
        while length < len(value) and start + length < len(text) and text[start + length] == value[length]:
            length += 1
        after = text[start + length :]
        if length < len(value) and (not after or after.startswith((*CUT, "\n", "'", '"'))):
            text = text[:start] + label + after
            start = text.find(head, start + len(label))
        else:
            start = text.find(head, start + 1)
    return text


def _replace_cut_suffixes(text: str, value: str, label: str) -> str:
    tail = value[-MIN_FRAGMENT_CHARS:]
    end = text.find(tail)
    while end != -1:
        stop = end + MIN_FRAGMENT_CHARS  # the fragment is text[begin:stop]
        begin, matched = end, MIN_FRAGMENT_CHARS
        while matched < len(value) and begin > 0 and text[begin - 1] == value[-matched - 1]:
            begin -= 1
            matched += 1
        before = text[:begin]
        if matched < len(value) and before.endswith(CUT):
            text = before + label + text[stop:]
            end = text.find(tail, begin + len(label))
        else:
            end = text.find(tail, end + 1)
    return text


SECRETS = Secrets()


def redact(text: str) -> str:
    return SECRETS.redact(text)


def redact_report(report: Any) -> None:
    """A pytest report with everything it will print redacted, in place: its longrepr (the
    traceback's lines, locals, crash message; a skip's reason; a plain text), its
    sections (captured output and logs) and a test's `wasxfail` reason."""
    longrepr = report.longrepr
    if isinstance(longrepr, str):
        report.longrepr = redact(longrepr)
    elif isinstance(longrepr, tuple):
        report.longrepr = tuple(redact(part) if isinstance(part, str) else part for part in longrepr)
    elif longrepr is not None:
        try:
            _redact_object(longrepr, set())
        except Exception:  # noqa: BLE001 - whatever pytest's repr holds, print nothing unredacted
            report.longrepr = redact(str(longrepr))
    report.sections = [(title, redact(content)) for title, content in report.sections]
    if isinstance(getattr(report, "wasxfail", None), str):
        report.wasxfail = redact(report.wasxfail)


def _redact_object(value: Any, seen: set[int]) -> Any:
    """`value` with its strings redacted: pytest's repr objects (dataclasses of its own)
    changed in place, lists, tuples and dicts rebuilt."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_object(item, seen) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact_object(item, seen) for item in value)
    if isinstance(value, dict):
        return {key: _redact_object(item, seen) for key, item in value.items()}
    if type(value).__module__.startswith("_pytest") and hasattr(value, "__dict__") and id(value) not in seen:
        seen.add(id(value))
        for name, item in list(vars(value).items()):
            object.__setattr__(value, name, _redact_object(item, seen))
        return value
    return value
