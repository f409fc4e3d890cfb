"""SQL for pending connects (OAuth states)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from accounts.models import OAuthState
from socialseed.repository import Repository


class OAuthStateRepository(Repository[OAuthState]):
    model = OAuthState

    async def by_hash(self, state_hash: bytes, *, lock: bool = False) -> OAuthState | None:
        return await self.get_unscoped(state_hash, lock=lock)

    async def with_verifier(self) -> list[OAuthState]:
        """Every state holding an encrypted PKCE verifier, locked (key rotation)."""
        result = await self.session.execute(
            select(OAuthState).where(OAuthState.code_verifier_enc.is_not(None)).with_for_update()
        )
        return list(result.scalars())

    async def delete_expired(self, before: datetime, *, limit: int) -> int:
        """States that expired before ``before`` (spent or not: either way they only answer
        InvalidState), in one bounded batch; concurrent purgers skip each other's rows."""
        expired = (
            select(OAuthState.state_hash)
            .where(OAuthState.expires_at < before)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(
            delete(OAuthState).where(OAuthState.state_hash.in_(expired))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
