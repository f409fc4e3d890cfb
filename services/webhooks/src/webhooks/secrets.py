"""Signing secrets: made in the Standard Webhooks format, stored encrypted.

The service must sign with the secret, so it is kept recoverable (Fernet: AES-CBC and
HMAC-SHA256, as accounts keeps platform tokens), never as plain text; ``MultiFernet``
encrypts with the first configured key and decrypts with any, so a key can be prepended.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from socialseed.errors import Conflict

PREFIX = "whsec_"


class SecretUndecryptable(Conflict):
    """The stored signing secret cannot be decrypted with any configured key (its key was
    dropped): rotate the secret. A named 409, never a 500."""

    default_detail = "The endpoint's signing secret cannot be decrypted; rotate it."


def new_secret() -> str:
    """``whsec_`` and 32 random bytes in base64: what Standard Webhooks libraries accept."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class SecretCipher:
    def __init__(self, keys: list[SecretStr]) -> None:
        if not keys:
            raise ValueError("configure at least one secret encryption key")
        self._fernet = MultiFernet([Fernet(k.get_secret_value().encode()) for k in keys])

    def encrypt(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode())

    def decrypt(self, stored: bytes) -> str:
        try:
            return self._fernet.decrypt(stored).decode()
        except InvalidToken as exc:
            raise SecretUndecryptable() from exc
