"""The access-token signing key (Ed25519) and the JWKS that publishes its public half."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auth.settings import AuthSettings


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    kid: str

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("AUTH_JWT_PRIVATE_KEY must be an Ed25519 private key")
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        # RFC 7638 thumbprint as the key id: stable, derived, no registry needed.
        canonical = json.dumps(
            {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}, separators=(",", ":")
        )
        return cls(private=key, kid=_b64(hashlib.sha256(canonical.encode()).digest()))

    def public_jwk(self) -> dict[str, Any]:
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64(raw),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }


def generate_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_signing_key(settings: AuthSettings) -> SigningKey:
    if settings.jwt_private_key is not None:
        return SigningKey.from_pem(settings.jwt_private_key.get_secret_value().encode())
    path = settings.jwt_private_key_file
    if not path.exists():
        if not settings.dev_mode:
            raise RuntimeError("set AUTH_JWT_PRIVATE_KEY or AUTH_JWT_PRIVATE_KEY_FILE")
        _create_once(path, generate_pem())
    return SigningKey.from_pem(path.read_bytes())


def _create_once(path: Path, content: bytes) -> None:
    """Write ``path`` (mode 0600) unless it exists, whole or not at all: several workers start
    at once, the first to link its complete file wins and the others read that one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        os.unlink(draft)
