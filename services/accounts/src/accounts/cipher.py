"""Platform tokens encrypted at rest with Fernet (AES-CBC + HMAC-SHA256), keys rotatable.

``TokenCipher`` is only the encryption; "the token vault" is what accounts serves other
services with it (``POST /internal/accounts/{id}/access-token``, the client being
``socialseed.vault.TokenVault``). This service is the only place tokens are decrypted.
``MultiFernet`` encrypts with the first key and decrypts with any, so a new key can be
prepended, then every row re-encrypted.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from socialseed.errors import Conflict


class TokenUndecryptable(Conflict):
    """A stored token cannot be decrypted with any configured key (e.g. its key was dropped):
    the account must be reconnected. A named 409 on endpoints, never a 500."""

    default_detail = "The stored token cannot be decrypted; reconnect the account."


class TokenCipher:
    """Encrypts and decrypts the tokens (and PKCE verifiers) stored in accounts' tables."""

    def __init__(self, keys: list[SecretStr]) -> None:
        if not keys:
            raise ValueError("configure at least one token encryption key")
        self._fernet = MultiFernet([Fernet(k.get_secret_value().encode()) for k in keys])

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode()
        except InvalidToken as exc:
            raise TokenUndecryptable("token cannot be decrypted with the configured keys") from exc

    def encrypt_optional(self, plaintext: str | None) -> bytes | None:
        return None if plaintext is None else self.encrypt(plaintext)

    def decrypt_optional(self, ciphertext: bytes | None) -> str | None:
        return None if ciphertext is None else self.decrypt(ciphertext)

    def rotate(self, ciphertext: bytes) -> bytes:
        """Re-encrypt under the primary key (keeps the original timestamp)."""
        try:
            return self._fernet.rotate(ciphertext)
        except InvalidToken as exc:
            raise TokenUndecryptable("token cannot be decrypted with the configured keys") from exc
