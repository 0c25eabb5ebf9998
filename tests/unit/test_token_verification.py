"""`serve --auth`: the key files read at start-up (verification.py) and the bearer check
(tokens.BearerJWT) with an identity provider's keys, or with none at all (`any`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from identity_provider import (
    AUDIENCE,
    EC_KEY,
    ISSUER,
    OTHER_EC_KEY,
    OTHER_RSA_KEY,
    RSA_KEY,
    Token,
    public_jwk,
    write_jwks,
    write_pem,
)
from support import MORGAN, SECRET, make_token

from mockserver.errors import ApiError
from mockserver.pipeline.security.caller import Caller
from mockserver.pipeline.security.tokens import ANONYMOUS, BearerJWT
from mockserver.pipeline.security.verification import (
    ANY_TOKEN,
    MAX_KEY_FILE_BYTES,
    MOCK_TOKENS,
    TokenVerification,
    token_verification,
)
from mockserver.settings import SettingsError

FIXTURE_USERS = {MORGAN}


def bearer_check(verification: TokenVerification, ended: set[str] | None = None) -> BearerJWT:
    return BearerJWT(SECRET, FIXTURE_USERS, lambda session: session in (ended or set()), 86400, verification)


def refusal(check: BearerJWT, token: str) -> str:
    with pytest.raises(ApiError) as caught:
        check.authenticate({"Authorization": f"Bearer {token}"})
    assert caught.value.status == 401
    assert caught.value.headers["WWW-Authenticate"].startswith('Bearer realm="mudbase", error="invalid_token"')
    return caught.value.details


def caller(check: BearerJWT, token: str) -> Caller:
    return check.authenticate({"Authorization": f"Bearer {token}"})


@pytest.fixture
def jwks(tmp_path) -> TokenVerification:
    path = write_jwks(tmp_path / "jwks.json", public_jwk(RSA_KEY, "rsa-1"), public_jwk(EC_KEY, "ec-1"))
    return token_verification(f"jwks:{path}", ISSUER, AUDIENCE)


# --- the key files ----------------------------------------------------------------------------


def test_a_jwks_gives_each_key_its_kid_and_algorithm(jwks):
    assert [(key.kid, key.algorithm) for key in jwks.keys] == [("rsa-1", "RS256"), ("ec-1", "ES256")]
    assert jwks.algorithms == ["HS256", "RS256", "ES256"]
    assert (jwks.issuer, jwks.audience) == (ISSUER, AUDIENCE)


def test_a_jwk_alg_binds_its_key_and_encryption_keys_and_private_members_are_left_out(tmp_path):
    private = RSA_KEY.private_numbers()
    exported = {**public_jwk(RSA_KEY, "sig", alg="RS512"), "d": jwt.utils.to_base64url_uint(private.d).decode()}
    path = write_jwks(tmp_path / "jwks.json", exported, public_jwk(OTHER_RSA_KEY, "enc", use="enc"))
    (key,) = token_verification(f"jwks:{path}").keys
    assert (key.kid, key.algorithm) == ("sig", "RS512")
    assert not hasattr(key.jwk.key, "private_numbers")  # verifies, cannot sign


def test_a_single_jwk_is_a_jwks_of_one_key(tmp_path):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(public_jwk(EC_KEY)))
    assert [key.algorithm for key in token_verification(f"jwks:{path}").keys] == ["ES256"]


def test_a_pem_public_key_or_certificate_of_rsa_ec_or_ed25519(tmp_path):
    assert token_verification(f"pem:{write_pem(tmp_path / 'rsa.pem', RSA_KEY)}").keys[0].algorithm == "RS256"
    assert token_verification(f"pem:{write_pem(tmp_path / 'ec.pem', EC_KEY)}").keys[0].algorithm == "ES256"
    ed = write_pem(tmp_path / "ed.pem", ed25519.Ed25519PrivateKey.generate())
    assert token_verification(f"pem:{ed}").keys[0].algorithm == "EdDSA"


def jwks_text(*keys) -> str:
    return json.dumps({"keys": list(keys)})


BROKEN_FILES = {
    "not JSON": ("jwks", '{"keys": [', "is not a usable JWKS: not JSON (Expecting value at line 1, column 11)"),
    "not UTF-8": ("jwks", b"\xff\xfe", "is not a usable JWKS: not UTF-8"),
    "no keys array": ("jwks", '{"kid": "a"}', 'is not a usable JWKS: no "keys" array'),
    "no keys": ("jwks", '{"keys": []}', "is not a usable JWKS: it holds no signing key"),
    "a key not an object": ("jwks", '{"keys": [7]}', "is not a usable JWKS: keys[0] is not an object"),
    "no kty": ("jwks", '{"keys": [{"kid": "a", "n": "AQAB"}]}', "keys[0] (kid a): kty is not found"),
    "an RSA key without n": ("jwks", '{"keys": [{"kty": "RSA", "e": "AQAB"}]}', "keys[0]: Not a public or private key"),
    "a symmetric key": ("jwks", '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', "keys[0] is a symmetric (oct) key"),
    "alg none": ("jwks", jwks_text(public_jwk(RSA_KEY, alg="none")), "keys[0]: alg none is not a public-key"),
    "alg HS256": ("jwks", jwks_text(public_jwk(RSA_KEY, alg="HS256")), "keys[0]: alg HS256 is not a public-key"),
    "two keys, one without kid": (
        "jwks",
        jwks_text(public_jwk(RSA_KEY, "a"), public_jwk(EC_KEY)),
        "keys[1] has no kid; with several keys, each needs one",
    ),
    "a kid twice": ("jwks", jwks_text(public_jwk(RSA_KEY, "a"), public_jwk(EC_KEY, "a")), "kid a names two keys"),
    "a private PEM key": (
        "pem",
        RSA_KEY.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        "is not a usable PEM public key: it holds a private key; give the public one",
    ),
    "no PEM": ("pem", "hello", "no PEM public key or certificate could be read from it"),
    "too large": (
        "jwks",
        " " * (MAX_KEY_FILE_BYTES + 1),
        f"is larger than the limit of {MAX_KEY_FILE_BYTES // 1024} KiB",
    ),
}


@pytest.mark.parametrize("mode, content, message", BROKEN_FILES.values(), ids=BROKEN_FILES)
def test_a_key_file_that_cannot_be_used_is_one_line_naming_file_and_fault(tmp_path, mode, content, message):
    path = tmp_path / "keys"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(SettingsError) as caught:
        token_verification(f"{mode}:{path}")
    text = str(caught.value)
    assert str(path) in text
    assert message in text
    assert "\n" not in text and "{'" not in text  # no key dumped


def test_an_unreadable_file_a_mode_of_none_and_claims_no_mode_checks_are_refused(tmp_path):
    with pytest.raises(SettingsError, match=f"cannot read the key file {tmp_path}/absent.json: No such file"):
        token_verification(f"jwks:{tmp_path}/absent.json")
    with pytest.raises(SettingsError, match="cannot read the key file .*: Is a directory"):
        token_verification(f"pem:{tmp_path}")
    for auth in ("jwt", "jwks", "jwks:", "mock:x", "none"):
        with pytest.raises(SettingsError, match="is not one of mock, any, jwks:FILE or pem:FILE"):
            token_verification(auth)
    for auth in ("mock", "any"):
        with pytest.raises(SettingsError, match=f"--jwt-issuer and --jwt-audience .* not of --auth {auth}"):
            token_verification(auth, issuer=ISSUER)


# --- verification with the keys -----------------------------------------------------------------


def test_a_token_the_provider_signed_passes_and_names_its_subject(jwks):
    check = bearer_check(jwks)
    assert caller(check, Token().signed()).user_id == "auth0|65f1c0ffee"  # no fixture user: a stranger
    assert caller(check, Token(sub=MORGAN).signed(EC_KEY, "ec-1")).user_id == MORGAN
    assert caller(check, make_token(MORGAN)).user_id == MORGAN  # the mock's own still pass


def test_every_failed_check_says_which(jwks):
    check = bearer_check(jwks)
    assert refusal(check, Token().signed(OTHER_RSA_KEY)) == "Token signature is invalid"
    assert refusal(check, Token().signed(OTHER_EC_KEY, "ec-1")) == "Token signature is invalid"
    assert refusal(check, Token(expires_in=-60).signed()) == "Token has expired"
    assert refusal(check, Token(iss="https://evil.example/").signed()) == f"Token issuer (iss) is not {ISSUER}"
    assert refusal(check, Token(iss=None).signed()) == "Token is missing the required 'iss' claim"
    assert refusal(check, Token(aud="another-app").signed()) == f"Token audience (aud) is not {AUDIENCE}"
    assert refusal(check, Token(aud=None).signed()) == "Token is missing the required 'aud' claim"
    assert refusal(check, Token(sub=None).signed()) == "Token is missing the required 'sub' claim"
    assert refusal(check, Token().signed(kid="rsa-2")) == "Token key ID (kid) is not one of the JWKS"
    assert refusal(check, Token().signed(kid=None)) == "Token has no key ID (kid); the JWKS holds 2 keys"
    assert refusal(check, Token().signed(kid="ec-1")) == "Token algorithm is not allowed for its key, which takes ES256"
    assert refusal(check, Token().signed(algorithm="RS512")) == (
        "Token algorithm is not allowed; only HS256, RS256, ES256 are accepted"
    )
    assert refusal(check, "not-a-jwt") == "Token is malformed"
    # An HS256 token is the mock's: checked with its secret, its subject a fixture user.
    assert refusal(check, Token(iss=None, aud=None).signed(SECRET, algorithm="HS256")) == (
        "Token subject is not a known user"
    )


def segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_an_hs256_token_is_never_checked_with_a_public_key(jwks, tmp_path):
    # The classic confusion: a token "signed" with the public key as its HMAC secret.
    pem = write_pem(tmp_path / "rsa.pem", RSA_KEY).read_bytes()
    signing_input = segment(b'{"alg":"HS256","kid":"rsa-1"}') + "." + segment(b'{"sub":"x","exp":4102444800}')
    token = f"{signing_input}.{segment(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())}"
    assert refusal(bearer_check(jwks), token) == "Token signature is invalid"


def test_a_pem_key_takes_any_kid_and_the_tokens_of_its_algorithm(tmp_path):
    check = bearer_check(token_verification(f"pem:{write_pem(tmp_path / 'ec.pem', EC_KEY)}"))
    assert caller(check, Token().signed(EC_KEY, kid=None)).user_id == "auth0|65f1c0ffee"
    assert caller(check, Token(aud="anything", iss="anyone").signed(EC_KEY, kid="whatever")).session_id.startswith(
        "tok_"
    )
    assert refusal(check, Token().signed(OTHER_EC_KEY)) == "Token signature is invalid"
    assert refusal(check, Token().signed(RSA_KEY)) == "Token algorithm is not allowed; only HS256, ES256 are accepted"


def test_a_provider_token_logged_out_is_refused(jwks):
    token = Token(claims={"sid": "idp-session-1"}).signed()
    assert caller(bearer_check(jwks), token).session_id == "idp-session-1"
    assert refusal(bearer_check(jwks, ended={"idp-session-1"}), token) == (
        "The session of this token has ended (logged out)"
    )


# --- no verification ----------------------------------------------------------------------------


def test_any_token_passes_without_a_check(tmp_path):
    check = bearer_check(ANY_TOKEN)
    unsigned = jwt.encode({"sub": MORGAN}, None, algorithm="none")
    assert caller(check, unsigned).user_id == MORGAN
    assert caller(check, make_token(MORGAN, expires_in=-60)).user_id == MORGAN  # expired: unchecked
    assert caller(check, Token().signed(OTHER_RSA_KEY)).user_id == "auth0|65f1c0ffee"
    assert caller(check, "opaque-access-token").user_id == ANONYMOUS
    assert caller(check, jwt.encode({"sub": 42}, None, algorithm="none")).user_id == ANONYMOUS


def test_any_still_needs_a_bearer_token():
    check = bearer_check(ANY_TOKEN)
    for headers, details in (
        ({}, "Authorization header is missing"),
        ({"Authorization": "Basic bW9yZ2FuOnB3"}, "Authorization header must use the Bearer scheme"),
        ({"Authorization": "Bearer "}, "Bearer token is empty"),
    ):
        with pytest.raises(ApiError) as caught:
            check.authenticate(headers)
        assert caught.value.details == details


def test_the_default_is_the_mocks_own_tokens_only():
    check = bearer_check(MOCK_TOKENS)
    assert caller(check, make_token(MORGAN)).user_id == MORGAN
    assert refusal(check, Token().signed()) == "Token algorithm is not allowed; only HS256 is accepted"
