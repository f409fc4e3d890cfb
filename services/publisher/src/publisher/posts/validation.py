"""Everything a post is checked for before anything is stored: its time, each target's account,
media and platform rules, and each account's rolling publishing cap. Every failing target is
named in one answer (``InvalidTargets``), so the composer can show them all at once."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from publisher.media.repository import MediaRepository
from publisher.models import AccountView, Media
from publisher.posts import rules
from publisher.posts.repository import PostRepository
from publisher.posts.schedule import check_window, resolve
from publisher.posts.schemas import TargetIn
from publisher.publishing.holds import cap
from socialseed.budgets.rules import Rule
from socialseed.errors import BadRequest
from socialseed.platforms import Platform, rate_rules
from socialseed.platforms.base import MediaKind
from socialseed.security import Principal


class InvalidTargets(BadRequest):
    default_detail = "Some targets cannot be published as they are; see `targets`."

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__()
        self.problems = problems

    def body(self) -> dict[str, Any]:
        return {**super().body(), "targets": self.problems}


@dataclass(frozen=True)
class PlannedTarget:
    """A target that passed every check: what will be stored."""

    account: AccountView
    text: str | None
    media_ids: list[uuid.UUID] | None
    options: dict[str, Any]


def _facts(media: Media) -> rules.MediaFacts:
    return rules.MediaFacts(
        kind=MediaKind(media.kind),
        mime_type=media.mime_type,
        size=media.size,
        width=media.width,
        height=media.height,
        duration_s=media.duration_s,
    )


@dataclass
class TargetCheck:
    session: AsyncSession
    workspace_id: uuid.UUID
    accounts: dict[uuid.UUID, AccountView]
    media: dict[uuid.UUID, Media]
    post_text: str
    post_media: list[uuid.UUID]
    due: datetime
    exclude_post: uuid.UUID | None = None
    # Each platform's per-account publishing cap (``publisher.publishing.holds.cap``).
    caps: Mapping[Platform, Rule] = field(default_factory=dict)
    cap_usage: dict[uuid.UUID, int] = field(default_factory=dict)

    async def plan(self, targets: Sequence[TargetIn]) -> list[PlannedTarget]:
        self.cap_usage = await self._cap_usage(targets)
        planned, problems = [], []
        seen: set[uuid.UUID] = set()
        for target in targets:
            outcome = await self._plan_one(target, seen)
            seen.add(target.account_id)
            if isinstance(outcome, PlannedTarget):
                planned.append(outcome)
            else:
                problems.append({"account_id": str(target.account_id), **outcome})
        if problems:
            raise InvalidTargets(problems)
        return planned

    async def _cap_usage(self, targets: Sequence[TargetIn]) -> dict[uuid.UUID, int]:
        """Each targeted account's posts in its platform's cap window: a query per platform,
        not per target."""
        by_platform: dict[Platform, set[uuid.UUID]] = defaultdict(set)
        for target in targets:
            account = self.accounts.get(target.account_id)
            if account is not None:
                by_platform[Platform(account.platform)].add(account.id)
        repo = PostRepository(self.session)
        used: dict[uuid.UUID, int] = {}
        for platform, ids in by_platform.items():
            if (limit := self.caps.get(platform)) is not None:
                used |= await repo.scheduled_near(
                    ids, self.due, limit.every, exclude_post=self.exclude_post
                )
        return used

    def _draft(self, target: TargetIn) -> rules.TargetDraft:
        ids = target.media_ids if target.media_ids is not None else self.post_media
        return rules.TargetDraft(
            text=target.text if target.text is not None else self.post_text,
            media=[_facts(self.media[i]) for i in ids],
            options=target.options,
        )

    async def _plan_one(
        self, target: TargetIn, seen: set[uuid.UUID]
    ) -> PlannedTarget | dict[str, str]:
        """The target as it will be stored, or its problem ``{error, detail}``."""
        if target.account_id in seen:
            return {"error": "DuplicateTarget", "detail": "This account is targeted twice."}
        account = self.accounts.get(target.account_id)
        if account is None:
            return {"error": "AccountNotFound", "detail": "No such account in this workspace."}
        if account.status != "active":
            return {
                "error": "AccountNotActive",
                "detail": f"The account is {account.status.replace('_', ' ')}; "
                + (
                    "reconnect it first."
                    if account.status == "reauth_required"
                    else "pick another."
                ),
            }
        ids = target.media_ids if target.media_ids is not None else self.post_media
        missing = [str(i) for i in ids if i not in self.media]
        if missing:
            return {"error": "MediaNotFound", "detail": f"No such media: {', '.join(missing)}."}
        platform = Platform(account.platform)
        said = rules.options_platform(target.options)
        if said is not None and said != platform.value:
            return {
                "error": "OptionsPlatformMismatch",
                "detail": f"These options are for {_platform_words(said)}; this account is on "
                f"{_platform_words(platform.value)}. Send {_platform_words(platform.value)}'s "
                "options (or leave `platform` out).",
            }
        verdict = rules.check(platform, self._draft(target))
        if verdict.problems:
            return {"error": "PlatformRules", "detail": " ".join(verdict.problems)}
        limit = self.caps.get(platform)
        used = self.cap_usage.get(account.id, 0)
        if limit is not None and used >= limit.limit:
            return {
                "error": "PublishingCapReached",
                "detail": f"{platform.value} publishes at most {limit.limit} posts per account in "
                f"{_window(limit.every)}; {used} are already planned around this time.",
            }
        return PlannedTarget(account, target.text, target.media_ids, verdict.options)


PLATFORM_NAMES = {
    "x": "X",
    "tiktok": "TikTok",
    "instagram": "Instagram",
    "facebook": "Facebook",
    "linkedin": "LinkedIn",
    "youtube": "YouTube",
}


def _platform_words(value: object) -> str:
    if isinstance(value, str) and value in PLATFORM_NAMES:
        return PLATFORM_NAMES[value]
    return f"an unknown platform ({str(value)[:40]!r})"


def _window(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g} hours" if hours >= 1 else f"{window.total_seconds() / 60:g} minutes"


async def checked_plan(
    session: AsyncSession,
    *,
    principal: Principal,
    workspace_id: uuid.UUID,
    accounts: dict[uuid.UUID, AccountView],
    text: str,
    media_ids: list[uuid.UUID],
    targets: Sequence[TargetIn],
    due: datetime,
    exclude_post: uuid.UUID | None = None,
    rules: Mapping[str, Sequence[Rule]] | None = None,
) -> list[PlannedTarget]:
    """``rules``: the publishing rules (the publisher's ``budgets`` setting; by default as the
    providers declare them), whose per-account caps are checked."""
    wanted = set(media_ids) | {i for t in targets for i in (t.media_ids or [])}
    media = await MediaRepository(session).in_workspace(principal, workspace_id, wanted)
    declared = rules if rules is not None else rate_rules("publishes")
    caps = {Platform(p): c for p, of in declared.items() if (c := cap(of)) is not None}
    check = TargetCheck(
        session, workspace_id, accounts, media, text, media_ids, due, exclude_post, caps
    )
    return await check.plan(targets)


def due_instant(
    scheduled_at: datetime | None, tz_name: str, now: datetime, *, max_days: int
) -> datetime:
    """When the post is due (UTC): ``now`` when no time was given."""
    if scheduled_at is None:
        resolve(now, tz_name)  # still refuse an unknown zone
        return now
    instant = resolve(scheduled_at, tz_name)
    check_window(instant, now, max_days=max_days)
    return instant
