"""Tables that would otherwise only grow: dead refresh-token families, closed invitations,
login attempts older than every throttle's window."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from auth.context import AuthContext
from auth.users.repository import HousekeepingRepository

log = logging.getLogger(__name__)

# Closed invitations stay visible this long (what happened to an invite), then go.
INVITATION_KEEP = timedelta(days=30)


async def purge(ctx: AuthContext, *, batch: int = 1000) -> dict[str, int]:
    """One pass, in short transactions of at most ``batch`` rows each."""
    now = ctx.clock()
    counts = {"refresh_tokens": 0, "invitations": 0, "login_attempts": 0}
    while True:
        async with ctx.db.transaction() as session:
            n = await HousekeepingRepository(session).delete_dead_refresh_tokens(now, limit=batch)
        counts["refresh_tokens"] += n
        if n < batch:
            break
    while True:
        async with ctx.db.transaction() as session:
            n = await HousekeepingRepository(session).delete_closed_invitations(
                now - INVITATION_KEEP, limit=batch
            )
        counts["invitations"] += n
        if n < batch:
            break
    while True:
        async with ctx.db.transaction() as session:
            n = await HousekeepingRepository(session).delete_login_attempts(
                now - ctx.login_throttle.longest_window, limit=batch
            )
        counts["login_attempts"] += n
        if n < batch:
            break
    return counts


async def run_housekeeping(ctx: AuthContext) -> None:
    """Every ``housekeeping_interval`` seconds, for as long as the service runs."""
    while True:
        try:
            counts = await purge(ctx)
            if any(counts.values()):
                log.info("housekeeping deleted %s", counts)
        except Exception:  # the next turn tries again; serving requests matters more
            log.warning("housekeeping failed", exc_info=True)
        await asyncio.sleep(ctx.settings.housekeeping_interval)
