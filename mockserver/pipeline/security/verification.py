"""How the bearer schemes verify a token (`mockserver serve --auth`), chosen once at start-up.

- `mock` (the default): the mock's own HS256 tokens, signed with its secret (tokens.py).
- `jwks:FILE` or `pem:FILE`: besides the mock's own, tokens signed by an identity
  provider, verified with the public key their `kid` names in a JWKS file (or the one key
  of a PEM file: RSA, EC or Ed25519 public key, or a certificate), and their issuer and
  audience checked when given. The algorithm is the key's: its `alg` in the JWKS, else
  RS256 for an RSA key, ES256/ES384/ES512 by the curve of an EC key, EdDSA for Ed25519.
- `any`: no check at all; any non-empty bearer token passes (what Prism does). Never on a
  shared mock.

The files are read once, within MAX_KEY_FILE_BYTES; anything wrong with them is a
SettingsError of one line naming the file (and the key) and what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from mockserver.settings import SettingsError

MOCK, ANY, JWKS, PEM = "mock", "any", "jwks", "pem"
MODES = f"{MOCK}, {ANY}, {JWKS}:FILE or {PEM}:FILE"
MAX_KEY_FILE_BYTES = 256 * 1024  # a provider's JWKS is a few KiB, certificate chains included
# Signature algorithms of public keys; a symmetric key (HS256, `oct`) is the mock's secret's business.
PUBLIC_KEY_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES256K", "ES384", "ES512", "EdDSA"}
)
# A JWK's private members: dropped, so that a JWKS exported with them still verifies only.
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


@dataclass(frozen=True)
class VerificationKey:
    """One public key of a JWKS or PEM file, and the one algorithm it verifies."""

    kid: str | None
    jwk: jwt.PyJWK

    @property
    def algorithm(self) -> str:
        return self.jwk.algorithm_name


@dataclass(frozen=True)
class TokenVerification:
    """What the bearer schemes accept: the mode, and for `jwks`/`pem` the keys and claims."""

    mode: str = MOCK
    source: Path | None = None
    keys: tuple[VerificationKey, ...] = ()
    issuer: str | None = None
    audience: str | None = None

    @property
    def by_keys(self) -> bool:
        return self.mode in (JWKS, PEM)

    @property
    def algorithms(self) -> list[str]:
        """Every algorithm a token may have: the mock's own, then the keys'."""
        return list(dict.fromkeys(["HS256", *(key.algorithm for key in self.keys)]))

    def key_for(self, kid: Any) -> VerificationKey | str:
        """The key a token's `kid` header names, or why there is none (a fixed text)."""
        if self.mode == PEM or (kid is None and len(self.keys) == 1):
            return self.keys[0]
        if kid is None:
            return f"Token has no key ID (kid); the JWKS holds {len(self.keys)} keys"
        return next((key for key in self.keys if key.kid == kid), "Token key ID (kid) is not one of the JWKS")

    def describe(self) -> str:
        """One line for the banner."""
        if self.mode == ANY:
            return "Bearer tokens are NOT verified (--auth any): any token passes"
        if self.mode == MOCK:
            return "Bearer tokens: the mock's own (HS256, its secret)"
        keys = ", ".join(f"{key.kid} {key.algorithm}" if key.kid else key.algorithm for key in self.keys[:8])
        more = ", ..." if len(self.keys) > 8 else ""
        claims = "".join(
            f", {name} {value}" for name, value in (("issuer", self.issuer), ("audience", self.audience)) if value
        )
        return f"Bearer tokens: the mock's own, and those of {self.source} ({keys}{more}){claims}"


MOCK_TOKENS = TokenVerification()
ANY_TOKEN = TokenVerification(ANY)


def token_verification(auth: str, issuer: str | None = None, audience: str | None = None) -> TokenVerification:
    """The verification `--auth` names: mock, any, jwks:FILE or pem:FILE; a SettingsError
    when it is none of them, when a file cannot be used, or when an issuer or audience is
    given to a mode that checks none."""
    mode, colon, file = auth.partition(":")
    if mode in (MOCK, ANY) and not colon:
        if issuer or audience:
            raise SettingsError(
                f"--jwt-issuer and --jwt-audience check the tokens of --auth {JWKS}:FILE or {PEM}:FILE, "
                f"not of --auth {mode}"
            )
        return MOCK_TOKENS if mode == MOCK else ANY_TOKEN
    if mode not in (JWKS, PEM) or not file:
        raise SettingsError(f"--auth {auth!r} is not one of {MODES}")
    path = Path(file)
    data = _read(path)
    keys = _jwks(path, data) if mode == JWKS else (_pem(path, data),)
    return TokenVerification(mode, path, keys, issuer or None, audience or None)


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise SettingsError(f"cannot read the key file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise SettingsError(f"the key file {path} is larger than the limit of {MAX_KEY_FILE_BYTES // 1024} KiB")
    return data


def _jwks(path: Path, data: bytes) -> tuple[VerificationKey, ...]:
    def problem(message: str) -> SettingsError:
        return SettingsError(f"{path} is not a usable JWKS: {message}")

    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise problem("not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise problem(f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if isinstance(document, dict) and "kty" in document:
        document = {"keys": [document]}  # a single JWK
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise problem('no "keys" array (a JWKS is {"keys": [...]})')
    keys: list[VerificationKey] = []
    for index, raw in enumerate(document["keys"]):
        where = f"keys[{index}]"
        if not isinstance(raw, dict):
            raise problem(f"{where} is not an object")
        if raw.get("use", "sig") != "sig":
            continue  # an encryption key
        kid = raw.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise problem(f"{where}: kid is not a string")
        where += f" (kid {kid})" if kid else ""
        if raw.get("kty") == "oct":
            raise problem(f"{where} is a symmetric (oct) key; the mock's own secret is MOCKSERVER_JWT_SECRET")
        public = {name: value for name, value in raw.items() if name not in PRIVATE_MEMBERS}
        keys.append(VerificationKey(kid, _jwk(public, problem, where)))
    if not keys:
        raise problem("it holds no signing key")
    kids = [key.kid for key in keys]
    if len(keys) > 1 and None in kids:
        raise problem(f"keys[{kids.index(None)}] has no kid; with several keys, each needs one")
    duplicate = next((kid for kid in kids if kids.count(kid) > 1), None)
    if duplicate is not None:
        raise problem(f"kid {duplicate} names two keys")
    return tuple(keys)


def _jwk(data: dict[str, Any], problem, where: str) -> jwt.PyJWK:
    if "alg" in data and (not isinstance(data["alg"], str) or data["alg"] not in PUBLIC_KEY_ALGORITHMS):
        raise problem(f"{where}: alg {data['alg']} is not a public-key signature algorithm")
    try:
        jwk = jwt.PyJWK(data)
    except (jwt.PyJWTError, UnsupportedAlgorithm, NotImplementedError, ValueError, TypeError, KeyError) as exc:
        reason = str(exc).split(": {", 1)[0]  # PyJWT's messages may quote the whole key
        if isinstance(exc, KeyError):
            reason = f"missing member {reason}"
        raise problem(f"{where}: {reason}") from None
    if jwk.algorithm_name not in PUBLIC_KEY_ALGORITHMS:
        raise problem(f"{where}: {jwk.algorithm_name} is not a public-key signature algorithm")
    return jwk


def _pem(path: Path, data: bytes) -> VerificationKey:
    def problem(message: str) -> SettingsError:
        return SettingsError(f"{path} is not a usable PEM public key: {message}")

    if b"PRIVATE KEY" in data:
        raise problem("it holds a private key; give the public one (openssl pkey -in KEY -pubout)")
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise problem("no PEM public key or certificate could be read from it") from None
    if isinstance(key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        try:
            jwk = ECAlgorithm.to_jwk(key, as_dict=True)
        except (jwt.PyJWTError, ValueError) as exc:
            raise problem(f"its curve is not supported ({exc})") from None
    elif isinstance(key, ed25519.Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(key, as_dict=True)
    else:
        raise problem(f"a {type(key).__name__} is not supported; give an RSA, EC or Ed25519 key")
    return VerificationKey(None, _jwk(jwk, problem, "the key"))
