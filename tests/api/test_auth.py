"""Bearer JWT verification: every way a token can be wrong is a 401 with a challenge."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from support import ALEX, FIXTURES, MORGAN, PARTICIPANTS, PRIYA, SAM, SECRET, SPEC, bearer, make_token

from mockserver import create_app
from mockserver.server.deployment import Safeguards
from mockserver.settings import MAX_TOKEN_LIFETIME_SECONDS


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned_token(sub: str = MORGAN) -> str:
    """A token with `alg: none` and an empty signature."""
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': sub, 'exp': 4102444800})}."


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def bad_authorization() -> dict[str, tuple[str | None, str, str | None]]:
    """Each case's Authorization, the start of its details and its challenge's error; made
    when the test runs, so that a token meant to be valid has not expired since collection."""
    return {
        "missing header": (None, "Authorization header is missing", None),
        "other scheme": ("Basic bW9yZ2FuOnB3", "Authorization header must use the Bearer scheme", None),
        "only a no-break space": ("\xa0", "Authorization header must use the Bearer scheme", None),
        "empty bearer": ("Bearer ", "Bearer token is empty", None),
        "garbage": ("Bearer not-a-jwt", "Token is malformed", "invalid_token"),
        "three garbage segments": ("Bearer a.b.c", "Token is malformed", "invalid_token"),
        "alg none": (f"Bearer {unsigned_token()}", "Token algorithm is not allowed", "invalid_token"),
        "other key": (
            f"Bearer {make_token(key='another-secret-of-enough-length-0123456789')}",
            "Token signature is invalid",
            "invalid_token",
        ),
        "HS512": (f"Bearer {make_token(algorithm='HS512')}", "Token algorithm is not allowed", "invalid_token"),
        "RS256": (
            f"Bearer {make_token(key=RSA_KEY, algorithm='RS256')}",
            "Token algorithm is not allowed",
            "invalid_token",
        ),
        "expired": (f"Bearer {make_token(expires_in=-60)}", "Token has expired", "invalid_token"),
        "no exp": (
            f"Bearer {make_token(expires_in=None)}",
            "Token is missing the required 'exp' claim",
            "invalid_token",
        ),
        "no sub": (f"Bearer {make_token(sub=None)}", "Token is missing the required 'sub' claim", "invalid_token"),
        "not valid yet": (f"Bearer {make_token(nbf=4102444800)}", "Token is not valid yet", "invalid_token"),
        "sub not a string": (f"Bearer {make_token(42)}", "Token is invalid", "invalid_token"),
        "unknown user": (f"Bearer {make_token('usr_nobody')}", "Token subject is not a known user", "invalid_token"),
        "seed's placeholder signature": (
            "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c3JfbW9yZ2FuX2RlIiwiZW1haWwiOiJtb3JnYW4uY2hlbkBu"
            "b3J0aHdpbmQuZGV2IiwiZXhwIjoxODI1MTI5NjAwfQ.doc_preview_sig",
            "Token signature is invalid",
            "invalid_token",
        ),
    }


@pytest.mark.parametrize("case", list(bad_authorization()))
def test_bad_credentials_are_401_with_a_bearer_challenge(client, case):
    authorization, details, challenge_error = bad_authorization()[case]
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.delete(PARTICIPANTS, json={"userId": SAM}, headers=headers)

    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "UNAUTHORIZED"
    assert body["error"] == "Authentication required"
    assert body["details"].startswith(details)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="mudbase"')
    if challenge_error:
        assert f'error="{challenge_error}"' in challenge
    else:
        assert "error=" not in challenge


def test_authentication_comes_before_validation(client):
    response = client.delete(PARTICIPANTS, data="{not json", content_type="application/json")
    assert response.status_code == 401


def test_a_rejected_token_changes_nothing(client, app):
    client.delete(PARTICIPANTS, json={"userId": SAM}, headers={"Authorization": f"Bearer {unsigned_token()}"})
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN)).status_code == 200


def test_scheme_and_token_may_be_separated_by_any_whitespace(client):
    response = client.delete(
        PARTICIPANTS, json={"userId": ALEX}, headers={"Authorization": f"Bearer\t{make_token(ALEX)}"}
    )
    assert response.status_code == 200


def test_the_token_is_verified_once_although_two_schemes_accept_it(client, monkeypatch):
    from mockserver.pipeline.security.tokens import BearerJWT

    calls = []
    original = BearerJWT._decode
    monkeypatch.setattr(BearerJWT, "_decode", lambda self, token: calls.append(token) or original(self, token))
    client.delete(PARTICIPANTS, json={"userId": SAM}, headers={"Authorization": "Bearer garbage"})
    assert calls == ["garbage"]


def test_scheme_name_is_case_insensitive(client):
    token = make_token(ALEX)
    response = client.delete(PARTICIPANTS, json={"userId": ALEX}, headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_token_signed_with_the_server_secret_is_accepted(client):
    response = client.delete(PARTICIPANTS, json={"userId": PRIYA}, headers=bearer(MORGAN))
    # Authenticated: the answer comes from the behaviour, not from authentication.
    assert response.status_code == 400
    assert response.get_json()["code"] == "NOT_A_PARTICIPANT"


def test_secret_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MOCKSERVER_JWT_SECRET", "secret-from-the-environment-0123456789abcdef")
    app = create_app(SPEC, FIXTURES)
    client = app.test_client()
    ours = make_token(SAM, key="secret-from-the-environment-0123456789abcdef")
    theirs = make_token(SAM, key=SECRET)
    assert (
        client.delete(PARTICIPANTS, json={"userId": SAM}, headers={"Authorization": f"Bearer {theirs}"}).status_code
        == 401
    )
    assert (
        client.delete(PARTICIPANTS, json={"userId": SAM}, headers={"Authorization": f"Bearer {ours}"}).status_code
        == 200
    )


def test_an_operation_that_allows_anonymous_access_needs_no_token(tmp_path):
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        SPEC.read_text().replace("        - OrgBearerAuth: []\n", "        - {}\n        - OrgBearerAuth: []\n")
    )
    client = create_app(spec, FIXTURES, jwt_secret=SECRET).test_client()
    # Past authentication: the behaviour refuses an anonymous caller by its own rules.
    response = client.delete(PARTICIPANTS, json={"userId": SAM})
    assert response.status_code == 400
    assert response.get_json()["code"] == "FORBIDDEN"


def signed(claims: dict, header: dict | None = None) -> str:
    """A token with exactly these claims and header fields, signed with the server's secret."""
    return jwt.encode(claims, SECRET, algorithm="HS256", headers=header)


def forged(header: dict, claims: dict) -> str:
    return f"{b64(header)}.{b64(claims)}.c2lnbmF0dXJl"


SOON = int(time.time()) + 600
LENIENT_CLAIMS = {
    # PyJWT reads these as times; only JSON integers are.
    "exp a numeric string": ({"sub": MORGAN, "exp": str(SOON)}, "Token claim 'exp' must be an integer"),
    "exp a float": ({"sub": MORGAN, "exp": SOON + 0.5}, "Token claim 'exp' must be an integer"),
    "exp 1e308": ({"sub": MORGAN, "exp": 1e308}, "Token claim 'exp' must be an integer"),
    "nbf a string": ({"sub": MORGAN, "exp": SOON, "nbf": "0"}, "Token claim 'nbf' must be an integer"),
    "iat a float": ({"sub": MORGAN, "exp": SOON, "iat": time.time()}, "Token claim 'iat' must be an integer"),
    "exp in 31 years": ({"sub": MORGAN, "exp": SOON + 31 * 365 * 86400}, "Token expires more than 86400 seconds"),
    "exp 10**30": ({"sub": MORGAN, "exp": 10**30}, "Token expires more than 86400 seconds"),
}


@pytest.mark.parametrize("claims, details", LENIENT_CLAIMS.values(), ids=LENIENT_CLAIMS)
def test_time_claims_must_be_integers_within_the_maximum_lifetime(live_server, claims, details):
    response = delete_with_token(live_server, signed(claims))
    assert response.status_code == 401
    assert response.json()["details"].startswith(details)


def test_tokens_up_to_the_maximum_lifetime_are_accepted(live_server):
    token = signed({"sub": MORGAN, "exp": int(time.time()) + MAX_TOKEN_LIFETIME_SECONDS - 5, "iat": int(time.time())})
    assert delete_with_token(live_server, token).status_code == 200


def test_the_maximum_lifetime_is_configurable():
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, safeguards=Safeguards(max_token_lifetime=60))
    client = app.test_client()
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN)).status_code == 401
    token = make_token(MORGAN, expires_in=30)
    assert (
        client.delete(PARTICIPANTS, json={"userId": SAM}, headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )


ATTACKER_TEXT = {
    # PyJWT checks `crit` before the signature, and its message named the extension.
    "crit with a NUL": (forged({"alg": "HS256", "crit": ["x\x00y"]}, {"sub": MORGAN, "exp": SOON}), "x\x00y"),
    "crit with a quote": (forged({"alg": "HS256", "crit": ['a", error="x']}, {"sub": MORGAN}), 'error="x'),
    "crit with U+0100": (forged({"alg": "HS256", "crit": ["\u0100"]}, {"sub": MORGAN, "exp": SOON}), "\u0100"),
    "crit with a newline": (forged({"alg": "HS256", "crit": ["a\r\nX-Evil: 1"]}, {"sub": MORGAN}), "X-Evil"),
    "a 5000-digit exp": (
        f"{b64({'alg': 'HS256'})}."
        + base64.urlsafe_b64encode(f'{{"sub": "{MORGAN}", "exp": {"9" * 5000}}}'.encode()).rstrip(b"=").decode()
        + ".c2ln",
        "int_max_str_digits",
    ),
    "a header that is not JSON": (
        base64.urlsafe_b64encode(b'{"alg": "\xff').rstrip(b"=").decode() + ".e30.c2ln",
        "\ufffd",
    ),
}


@pytest.mark.parametrize("token, echoed", ATTACKER_TEXT.values(), ids=ATTACKER_TEXT)
def test_nothing_of_the_token_reaches_headers_or_details(live_server, token, echoed):
    response = delete_with_token(live_server, token)

    assert response.status_code == 401  # not waitress's plain-text 500
    body = response.json()
    assert body["details"] in {"Token is malformed", "Token is invalid", "Token signature is invalid"}
    assert echoed not in response.text
    for name, value in response.headers.items():
        assert value.isascii() and value.isprintable(), (name, value)
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="mudbase", error="invalid_token", error_description="{body["details"]}"'
    )


def delete_with_token(base_url: str, token: str) -> requests.Response:
    return requests.delete(
        base_url + PARTICIPANTS, json={"userId": SAM}, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_a_token_verified_before_is_refused_once_it_expires(client):
    # Verified tokens are remembered; their expiry is checked on every request all the same.
    token = make_token(MORGAN, expires_in=2)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete(PARTICIPANTS, json={"userId": "usr_nobody"}, headers=headers).status_code == 400
    time.sleep(2.1)
    response = client.delete(PARTICIPANTS, json={"userId": "usr_nobody"}, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["details"] == "Token has expired"


def test_a_remembered_token_is_decoded_once(client, monkeypatch):
    decoded = []
    original = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *args, **kwargs: decoded.append(1) or original(*args, **kwargs))
    headers = bearer(ALEX)
    for _ in range(3):
        assert client.get(PARTICIPANTS.rsplit("/", 1)[0], headers=headers).status_code == 200
    assert len(decoded) == 1
