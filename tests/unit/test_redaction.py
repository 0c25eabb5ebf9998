"""The one redaction of the journal and the proxy (mockserver/redaction.py): which names
are secret, and what of a value under one, or of a token anywhere, is left."""

from __future__ import annotations

import json

import pytest

from mockserver.redaction import MARKER, Redactor

REDACTOR = Redactor(["X-Partner"])
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfbW9yZ2FuIn0.c2lnbmF0dXJlLWJ5dGVz"
REFRESH = "rt_Q3Zs8pX0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1w"


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "passwd",
        "pwd",
        "newPassword",
        "Authorization",
        "X-Api-Key",
        "APIKey",
        "x-auth-token",
        "X-Refresh-Token",
        "Set-Cookie",
        "refreshToken",
        "access_token",
        "client_secret",
        "jwt",
        "sig",
        "signature",
        "sessionId",
        "credentials",
        "keyVersion",  # a false positive chosen over a leak (see the module's docstring)
        "x-partner",  # the contract's own apiKey name, whatever it is
    ],
)
def test_a_secret_name(name):
    assert REDACTOR.is_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "email",
        "userId",
        "keyword",
        "author",
        "authenticated",
        "WWW-Authenticate",
        "design",
        "identityPublicKey",
        "public_key",
        "Content-Type",
        "Keep-Alive",
        "Sec-Fetch-Mode",
    ],
)
def test_an_innocent_name(name):
    assert not REDACTOR.is_secret(name)


def test_the_whole_value_under_a_secret_name_is_replaced_whatever_its_type():
    document = {
        "email": "a@b.c",
        "password": ["hunter2", {"nested": "hunter3"}],
        "refreshToken": 9876543210,
        "credentials": {"user": "u", "pin": 1234},
        "profile": {"apiKey": True, "name": "Morgan"},
    }
    found: set[str] = set()
    assert REDACTOR.json(document, found) == {
        "email": "a@b.c",
        "password": MARKER,
        "refreshToken": MARKER,
        "credentials": MARKER,
        "profile": {"apiKey": MARKER, "name": "Morgan"},
    }
    assert {"hunter2", "hunter3", "9876543210", "u", "1234"} <= found


def test_tokens_are_redacted_under_any_name_and_in_text():
    body = json.dumps({"note": f"see {JWT}", "next": REFRESH, "url": "https://u:pw-secret@example.com/x"})
    shown = REDACTOR.body(body.encode(), "application/json")
    assert JWT not in json.dumps(shown) and REFRESH not in json.dumps(shown) and "pw-secret" not in json.dumps(shown)
    assert shown == {"note": f"see {MARKER}", "next": MARKER, "url": f"https://u:{MARKER}@example.com/x"}


@pytest.mark.parametrize(
    "content_type, body, shown",
    [
        # What fetch sends for a string body: JSON is read as JSON whatever the declared type.
        (
            "text/plain;charset=UTF-8",
            '{"email": "a@b.c", "password": "hunter2"}',
            '{"email": "a@b.c", "password": "[redacted]"}',
        ),
        (
            "application/x-www-form-urlencoded",
            "email=a%40b.c&pass%77d=hunter2&x=1",
            "email=a%40b.c&pass%77d=[redacted]&x=1",
        ),
        ("text/plain", "user=a&password=hunter2", "user=a&password=[redacted]"),
        ("text/plain", "password: hunter2\nuser: a", "password: [redacted]\nuser: a"),
        (
            "application/xml",
            "<login><user>a</user><s:Password x='1'>hunter2</s:Password></login>",
            "<login><user>a</user><s:Password x='1'>[redacted]</s:Password></login>",
        ),
        ("application/json", '{"email": "a", "password": "hunt', '{"email": "a", "password": [redacted]'),  # cut
        ("application/json", '{"passwords": ["hunter2", "x"], "a": 1', '{"passwords": [redacted], "a": 1'),
        (
            "multipart/form-data; boundary=b",
            '--b\r\nContent-Disposition: form-data; name="password"\r\n\r\nhunter2\r\n--b\r\n'
            'Content-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--b--\r\n',
            '--b\r\nContent-Disposition: form-data; name="password"\r\n\r\n[redacted]\r\n--b\r\n'
            'Content-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--b--\r\n',
        ),
    ],
)
def test_bodies_of_every_kind(content_type, body, shown):
    found: set[str] = set()
    assert REDACTOR.body(body.encode(), content_type, found) == shown
    assert found and all("hunt" in value for value in found)


def test_a_url_keeps_the_names_of_its_query_and_fragment():
    url = f"https://api.example/cb/{REFRESH}?access_token=s1&page=2&auth=s2&next=%2Fx%3Fjwt%3Ds3#id_token=s4"
    assert REDACTOR.url(url) == (
        f"https://api.example/cb/{MARKER}?access_token={MARKER}&page=2&auth={MARKER}&next={MARKER}#id_token={MARKER}"
    )


def test_a_finding_echoes_no_secret_value_of_its_exchange():
    found: set[str] = set()
    REDACTOR.body(b'{"password": "hunter2", "pwd": "7", "refreshToken": 12345}', "application/json", found)
    scrub = REDACTOR.scrubber(found)
    assert scrub("body at /password: 'hunter2' is too short") == f"body at /password: '{MARKER}' is too short"
    assert scrub(12345) == MARKER and scrub(123) == 123
    assert scrub(["hunter2", "ok"]) == [MARKER, "ok"]
    # A short value only where quoted: a bare 7 is in many messages.
    assert scrub("'7' is not one of 7 choices") == f"{MARKER} is not one of 7 choices"


def test_an_echo_cut_short_shows_no_part_of_a_long_secret():
    secret = "rt-like-but-not-rt-" + "k" * 5000
    scrub = REDACTOR.scrubber({secret})
    cut = (f"'{secret}' is too long")[:300] + "..."
    assert scrub(cut) == f"'{MARKER}..."
    assert scrub(f"x {secret[:40]}") == f"x {MARKER}"  # 40 characters of it: from its head on
    assert scrub(f"x {secret[:8]}") == f"x {secret[:8]}"  # shorter than its head: not taken for it
