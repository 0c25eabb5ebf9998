"""A stand-in identity provider for the tests of `serve --auth jwks:FILE` and `pem:FILE`:
keys generated with cryptography, written as a JWKS or a PEM file, and tokens they sign."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://login.example.dev/"
AUDIENCE = "mudbase-web"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


# Generated once for the whole run: RSA key generation takes tens of milliseconds.
RSA_KEY, OTHER_RSA_KEY, EC_KEY, OTHER_EC_KEY = rsa_key(), rsa_key(), ec_key(), ec_key()


def public_jwk(key, kid: str | None = None, **members: Any) -> dict[str, Any]:
    algorithm = RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else ECAlgorithm
    jwk = algorithm.to_jwk(key.public_key(), as_dict=True)
    if kid:
        jwk["kid"] = kid
    return {**jwk, **members}


def write_jwks(path: Path, *jwks: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"keys": list(jwks)}))
    return path


def write_pem(path: Path, key) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return path


@dataclass
class Token:
    """The claims of a provider's token; `signed` by a key as its `kid` says."""

    sub: str | None = "auth0|65f1c0ffee"
    iss: str | None = ISSUER
    aud: str | list[str] | None = AUDIENCE
    expires_in: int = 600
    claims: dict[str, Any] = field(default_factory=dict)

    def signed(self, key=RSA_KEY, kid: str | None = "rsa-1", algorithm: str | None = None) -> str:
        now = int(time.time())
        payload = {"iat": now, "exp": now + self.expires_in, **self.claims}
        for name in ("sub", "iss", "aud"):
            if getattr(self, name) is not None:
                payload[name] = getattr(self, name)
        algorithm = algorithm or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
        return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid} if kid else None)
