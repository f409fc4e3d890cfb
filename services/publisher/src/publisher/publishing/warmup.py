"""Tokens fetched ahead of a campaign.

A publish needs its account's access token, which the token vault (the accounts service)
decrypts and hands out, and which each worker process keeps until shortly before it expires.
A campaign of a few hundred accounts at 9:00 would otherwise make every one of them ask the
vault at 9:00: in ``bench/publish_lateness.py`` (1,000 accounts, 167 targets/s) that made the
first ten seconds' publishes late by up to five seconds while the rest of the minute's were
a fifth of a second late. So each worker process looks, every ``token_warmup_every`` seconds,
at the accounts with a target due within ``token_warmup_ahead`` seconds and fetches the tokens
it does not hold, a few at a time. A token that cannot be had is left for the publish to meet
and report, as before; the warm-up changes when tokens are fetched, never what is published.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from publisher.context import PublisherContext
from publisher.posts.repository import PostRepository
from publisher.publishing.dispatcher import DUE
from socialseed.vault import TokenVault

log = logging.getLogger(__name__)

#: The most accounts one turn looks at (the soonest due first).
ACCOUNTS_PER_TURN = 5_000


class TokenWarmup:
    def __init__(self, ctx: PublisherContext, vault: TokenVault) -> None:
        self.ctx = ctx
        self.vault = vault
        self.settings = ctx.settings

    async def run(self) -> None:
        while True:
            try:
                await self.warm_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database away: the publishes fetch their own tokens
                log.warning("fetching tokens ahead failed; trying again", exc_info=True)
            await asyncio.sleep(self.settings.token_warmup_every)

    async def warm_once(self) -> int:
        """Fetch the tokens of the accounts due soon that this process does not hold fresh;
        how many were fetched."""
        until = self.ctx.clock() + timedelta(seconds=self.settings.token_warmup_ahead)
        async with self.ctx.db.transaction() as session:
            accounts = await PostRepository(session).accounts_due_by(DUE, until, ACCOUNTS_PER_TURN)
        # The vault's tokens are held until two minutes before they expire, longer than
        # the warm-up looks ahead: one fresh now is still fresh when its target falls due.
        return await self.vault.warm(accounts, concurrency=self.settings.token_warmup_concurrency)
