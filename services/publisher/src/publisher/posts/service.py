"""Compose, edit, cancel, approve and reject posts. Every check runs before anything is
stored; each change and its event commit in the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from publisher.context import Caller, PublisherContext
from publisher.models import Approval, Post, PostStatus, Target, TargetStatus
from publisher.posts.repository import CalendarQuery, PostRepository
from publisher.posts.schedule import resolve, wall_time
from publisher.posts.schemas import (
    CHIP_TEXT,
    CalendarEntry,
    CalendarPage,
    PostIn,
    PostOut,
    PostPage,
    PostPatch,
    TargetIn,
    ValidationOut,
    post_out,
)
from publisher.posts.status import EDITABLE, OPEN, STARTED, derive
from publisher.posts.validation import InvalidTargets, PlannedTarget, checked_plan, due_instant
from publisher.publishing.dispatcher import notify_schedule_changed
from socialseed import tracing
from socialseed.contracts import (
    AccountDisconnected,
    PostApproved,
    PostCancelled,
    PostRejected,
    PostScheduled,
    PostTargetRef,
)
from socialseed.errors import Conflict, Forbidden, InsufficientRole
from socialseed.security import ROLE_RANK


class AlreadyPublishing(Conflict):
    default_detail = "Publishing has started for this post; it can no longer be changed."


class NotPendingApproval(Conflict):
    default_detail = "This post is not waiting for approval."


class OwnPostApproval(Forbidden):
    default_detail = "Authors do not approve or reject their own posts."


class AlreadySubmitted(Conflict):
    default_detail = (
        "This post was scheduled or submitted for approval; it cannot go back to the drafts. "
        "Edit it as it is, or cancel it."
    )


class NothingToRetry(Conflict):
    default_detail = "None of this post's targets failed; there is nothing to retry."


def _needs_approval(require_approval: bool, role: str) -> bool:
    return require_approval and ROLE_RANK[role] < ROLE_RANK["admin"]


@dataclass(frozen=True)
class Plan:
    """What is stored: for a draft, ``due`` is its time (or, without one, now: its place in
    lists; ``has_time`` false) and is never a due time."""

    due: datetime
    timezone: str
    needs_approval: bool
    targets: list[PlannedTarget]
    draft: bool = False
    has_time: bool = True


@dataclass(frozen=True)
class Draft:
    """A post as composed or edited: what is checked before anything is stored."""

    workspace_id: uuid.UUID
    text: str
    media_ids: list[uuid.UUID]
    targets: list[TargetIn]
    scheduled_at: datetime | None
    timezone: str | None

    @classmethod
    def of(cls, body: PostIn) -> Draft:
        return cls(
            body.workspace_id,
            body.text,
            body.media_ids,
            body.targets,
            body.scheduled_at,
            body.timezone,
        )


class PostService:
    async def _due(
        self, session: AsyncSession, ctx: PublisherContext, caller: Caller, draft: Draft
    ) -> tuple[datetime, str, bool]:
        """When the draft is due (UTC), in which zone, and whether it needs approval."""
        role = caller.principal.require(draft.workspace_id, "editor")
        workspace = await ctx.directory.workspace(draft.workspace_id, caller.authorization)
        tz_name = draft.timezone or workspace.timezone
        due = due_instant(
            draft.scheduled_at, tz_name, ctx.clock(), max_days=ctx.settings.max_schedule_days
        )
        return due, tz_name, _needs_approval(workspace.require_approval, role)

    async def _plan(
        self,
        session: AsyncSession,
        ctx: PublisherContext,
        caller: Caller,
        draft: Draft,
        *,
        exclude_post: uuid.UUID | None = None,
    ) -> Plan:
        due, tz_name, needs_approval = await self._due(session, ctx, caller, draft)
        planned = await self._targets(session, ctx, caller, draft, due, exclude_post)
        return Plan(due, tz_name, needs_approval, planned)

    async def _draft_plan(
        self,
        session: AsyncSession,
        ctx: PublisherContext,
        caller: Caller,
        draft: Draft,
        *,
        exclude_post: uuid.UUID | None = None,
    ) -> Plan:
        """A draft is checked as a post is (accounts, media, each platform's rules), except
        for its time, which may be absent or past (a wall time its zone skips is still
        refused: it names no instant), and the publishing caps: both are checked when it is
        scheduled. Approval too is decided then."""
        caller.principal.require(draft.workspace_id, "editor")
        workspace = await ctx.directory.workspace(draft.workspace_id, caller.authorization)
        tz_name = draft.timezone or workspace.timezone
        now = ctx.clock()
        if draft.scheduled_at is None:
            resolve(now, tz_name)  # still refuse an unknown zone
            when = now
        else:
            when = resolve(draft.scheduled_at, tz_name)
        planned = await self._targets(
            session, ctx, caller, draft, when, exclude_post, check_caps=False
        )
        return Plan(
            when, tz_name, False, planned, draft=True, has_time=draft.scheduled_at is not None
        )

    async def _targets(
        self,
        session: AsyncSession,
        ctx: PublisherContext,
        caller: Caller,
        draft: Draft,
        due: datetime,
        exclude_post: uuid.UUID | None = None,
        *,
        check_caps: bool = True,
    ) -> list[PlannedTarget]:
        accounts = await ctx.directory.accounts(
            session, draft.workspace_id, [t.account_id for t in draft.targets], caller.authorization
        )
        return await checked_plan(
            session,
            principal=caller.principal,
            workspace_id=draft.workspace_id,
            accounts=accounts,
            text=draft.text,
            media_ids=draft.media_ids,
            targets=draft.targets,
            due=due,
            exclude_post=exclude_post,
            rules=ctx.settings.budgets if check_caps else {},
        )

    async def validate(
        self, session: AsyncSession, ctx: PublisherContext, caller: Caller, body: PostIn
    ) -> ValidationOut:
        draft = Draft.of(body)
        due, _, _ = await self._due(session, ctx, caller, draft)
        try:
            await self._targets(session, ctx, caller, draft, due)
        except InvalidTargets as exc:
            return ValidationOut(valid=False, scheduled_at=due, targets=exc.problems)
        return ValidationOut(valid=True, scheduled_at=due, targets=[])

    async def create(
        self, session: AsyncSession, ctx: PublisherContext, caller: Caller, body: PostIn
    ) -> PostOut:
        """A post scheduled (or waiting for approval), or with ``draft`` a draft: stored with
        targets that are never due and no event (nothing is scheduled)."""
        if body.draft:
            plan = await self._draft_plan(session, ctx, caller, Draft.of(body))
        else:
            plan = await self._plan(session, ctx, caller, Draft.of(body))
        post = Post(
            workspace_id=body.workspace_id,
            author_id=caller.principal.user_id,
            text=body.text,
            media_ids=body.media_ids,
            scheduled_at=plan.due,
            has_time=plan.has_time,
            timezone=plan.timezone,
            approval=Approval.PENDING if plan.needs_approval else Approval.NOT_REQUIRED,
            targets=[_target(body.workspace_id, p, plan, i) for i, p in enumerate(plan.targets)],
        )
        post.status = derive(post.approval, [t.status for t in post.targets])
        await PostRepository(session).add(post)
        if not plan.draft and not plan.needs_approval:
            await self._scheduled(session, ctx, post)
        return post_out(post, post.status)

    async def get(self, session: AsyncSession, caller: Caller, post_id: uuid.UUID) -> PostOut:
        post = await self._find(session, caller, post_id)
        return post_out(post, post.status)

    async def calendar(
        self, session: AsyncSession, caller: Caller, query: CalendarQuery
    ) -> PostPage:
        caller.principal.require(query.workspace_id)
        page = await PostRepository(session).calendar(caller.principal, query)
        return PostPage(
            items=[post_out(p, p.status) for p in page.items], next_cursor=page.next_cursor
        )

    async def calendar_entries(
        self, session: AsyncSession, caller: Caller, query: CalendarQuery
    ) -> CalendarPage:
        caller.principal.require(query.workspace_id)
        page = await PostRepository(session).calendar_entries(caller.principal, query, CHIP_TEXT)
        return CalendarPage(
            items=[
                CalendarEntry(
                    id=row.id,
                    status=row.status,
                    scheduled_at=row.scheduled_at,
                    timezone=row.timezone,
                    text=row.text,
                    platforms=sorted(row.platforms or ()),
                )
                for row in page.items
            ],
            next_cursor=page.next_cursor,
        )

    async def update(
        self,
        session: AsyncSession,
        ctx: PublisherContext,
        caller: Caller,
        post_id: uuid.UUID,
        patch: PostPatch,
    ) -> PostOut:
        post = await self._find(session, caller, post_id, lock=True)
        self._require_editable(caller, post)
        is_draft = post.status == PostStatus.DRAFT
        if patch.draft and not is_draft:
            raise AlreadySubmitted()
        targets = patch.targets or [_target_in(t) for t in post.targets if t.status in EDITABLE]
        text = patch.text if patch.text is not None else post.text
        media_ids = patch.media_ids if patch.media_ids is not None else post.media_ids
        draft = Draft(
            post.workspace_id,
            text,
            media_ids,
            targets,
            _edited_time(post, patch),
            patch.timezone or post.timezone,
        )
        if is_draft and patch.draft is not False:  # it stays a draft
            plan = await self._draft_plan(session, ctx, caller, draft, exclude_post=post.id)
        else:  # edited, or a draft scheduled (or submitted for approval) now
            plan = await self._plan(session, ctx, caller, draft, exclude_post=post.id)
        post.text, post.media_ids = text, media_ids
        post.scheduled_at, post.timezone = plan.due, plan.timezone
        post.has_time = plan.has_time
        post.approval = Approval.PENDING if plan.needs_approval else Approval.NOT_REQUIRED
        post.rejection_reason = None
        # The open (or draft) targets never started: the edit replaces them (delete-orphan);
        # the ones a disconnect cancelled stay, with their reason.
        kept = [t for t in post.targets if t.status not in EDITABLE]
        post.targets = kept + [
            _target(post.workspace_id, p, plan, len(kept) + i) for i, p in enumerate(plan.targets)
        ]
        post.updated_at = ctx.clock()
        post.status = derive(post.approval, [t.status for t in post.targets])
        await session.flush()
        if not plan.draft and not plan.needs_approval:
            await self._scheduled(session, ctx, post)
        return post_out(post, post.status)

    async def cancel(
        self, session: AsyncSession, ctx: PublisherContext, caller: Caller, post_id: uuid.UUID
    ) -> None:
        post = await self._find(session, caller, post_id, lock=True)
        self._require_editable(caller, post)
        if post.status == PostStatus.DRAFT:
            # Nothing was ever scheduled of a draft (no event told anyone of it): it is
            # deleted, not kept as cancelled.
            await PostRepository(session).remove(post)
            return
        now = ctx.clock()
        for target in post.targets:
            target.status, target.due_at = TargetStatus.CANCELLED, None
        post.cancelled_at, post.status = now, derive(post.approval, [])
        await ctx.outbox.add(
            session,
            PostCancelled(
                post_id=post.id,
                workspace_id=post.workspace_id,
                cancelled_by=caller.principal.user_id,
                reason="Cancelled by a member of the workspace.",
                cancelled_at=now,
            ),
            key=str(post.id),
        )

    async def retry(
        self, session: AsyncSession, ctx: PublisherContext, caller: Caller, post_id: uuid.UUID
    ) -> PostOut:
        """Send the failed targets back to the dispatcher now, as a reschedule does: each is
        scheduled again with a fresh attempt budget (its attempts so far stay in the history,
        so a target whose outcome was unknown is still checked on the platform first)."""
        post = await self._find(session, caller, post_id, lock=True)
        role = caller.principal.require(post.workspace_id, "editor")
        if ROLE_RANK[role] < ROLE_RANK["admin"] and post.author_id != caller.principal.user_id:
            raise InsufficientRole("Editors retry only their own posts.")
        failed = [t for t in post.targets if t.status == TargetStatus.FAILED]
        if not failed:
            raise NothingToRetry()
        now = ctx.clock()
        for target in failed:
            target.status, target.due_at = TargetStatus.SCHEDULED, now
            target.error, target.error_class, target.attempts = None, None, 0
        post.updated_at = now
        post.status = derive(post.approval, [t.status for t in post.targets])
        await session.flush()
        await self._scheduled(session, ctx, post, due=now)
        return post_out(post, post.status)

    async def approve(
        self, session: AsyncSession, ctx: PublisherContext, caller: Caller, post_id: uuid.UUID
    ) -> PostOut:
        post, now = await self._review(session, ctx, caller, post_id, Approval.APPROVED)
        for target in post.targets:
            if target.status in OPEN:
                target.due_at = max(post.scheduled_at, now)
        post.status = derive(post.approval, [t.status for t in post.targets])
        await ctx.outbox.add(
            session,
            PostApproved(
                post_id=post.id,
                workspace_id=post.workspace_id,
                approved_by=caller.principal.user_id,
                approved_at=now,
            ),
            key=str(post.id),
        )
        await self._scheduled(session, ctx, post)
        return post_out(post, post.status)

    async def reject(
        self,
        session: AsyncSession,
        ctx: PublisherContext,
        caller: Caller,
        post_id: uuid.UUID,
        reason: str,
    ) -> PostOut:
        post, now = await self._review(session, ctx, caller, post_id, Approval.REJECTED)
        post.rejection_reason = reason
        post.status = derive(post.approval, [t.status for t in post.targets])
        await ctx.outbox.add(
            session,
            PostRejected(
                post_id=post.id,
                workspace_id=post.workspace_id,
                rejected_by=caller.principal.user_id,
                reason=reason,
                rejected_at=now,
            ),
            key=str(post.id),
        )
        return post_out(post, post.status)

    async def cancel_for_account(
        self, session: AsyncSession, ctx: PublisherContext, event: AccountDisconnected
    ) -> None:
        """The account left the workspace: its targets that have not started are cancelled."""
        reason = "The account was disconnected from the workspace."
        repo = PostRepository(session)
        targets = await repo.open_targets_of_account(event.account_id)
        for target in targets:
            target.status, target.due_at, target.error = TargetStatus.CANCELLED, None, reason
        await session.flush()
        await repo.refresh_statuses({t.post_id for t in targets})

    # helpers ----------------------------------------------------------------------------
    async def _find(
        self, session: AsyncSession, caller: Caller, post_id: uuid.UUID, *, lock: bool = False
    ) -> Post:
        return await PostRepository(session).get(caller.principal, post_id, lock=lock)

    def _require_editable(self, caller: Caller, post: Post) -> None:
        role = caller.principal.require(post.workspace_id, "editor")
        if ROLE_RANK[role] < ROLE_RANK["admin"] and post.author_id != caller.principal.user_id:
            raise InsufficientRole(
                "Editors change only their own posts; an admin or owner may change others'."
            )
        if any(t.status in STARTED for t in post.targets):
            raise AlreadyPublishing()
        if all(t.status == TargetStatus.CANCELLED for t in post.targets):
            raise AlreadyPublishing("This post was cancelled.")

    async def _review(
        self,
        session: AsyncSession,
        ctx: PublisherContext,
        caller: Caller,
        post_id: uuid.UUID,
        verdict: Approval,
    ) -> tuple[Post, datetime]:
        """An admin's verdict on a post waiting for approval (never the author's own)."""
        post = await self._find(session, caller, post_id, lock=True)
        caller.principal.require(post.workspace_id, "admin")
        if post.author_id == caller.principal.user_id:
            raise OwnPostApproval()
        if post.approval != Approval.PENDING:
            raise NotPendingApproval()
        now = ctx.clock()
        post.approval, post.reviewed_by, post.reviewed_at = verdict, caller.principal.user_id, now
        return post, now

    async def _scheduled(
        self,
        session: AsyncSession,
        ctx: PublisherContext,
        post: Post,
        *,
        due: datetime | None = None,
    ) -> None:
        """``post.scheduled``: the post's open targets are due at ``due`` (default: its time)."""
        open_targets = [t for t in post.targets if t.status in OPEN]
        traceparent = tracing.current_traceparent()
        for target in open_targets:
            target.traceparent = traceparent
        await ctx.outbox.add(
            session,
            PostScheduled(
                post_id=post.id,
                workspace_id=post.workspace_id,
                author_id=post.author_id,
                scheduled_at=due or post.scheduled_at,
                timezone=post.timezone,
                targets=[
                    PostTargetRef(target_id=t.id, account_id=t.account_id, platform=t.platform)
                    for t in open_targets
                ],
            ),
            key=str(post.id),
        )
        await notify_schedule_changed(session)


def _target(workspace_id: uuid.UUID, planned: PlannedTarget, plan: Plan, position: int) -> Target:
    return Target(
        id=uuid.uuid4(),
        position=position,
        workspace_id=workspace_id,
        account_id=planned.account.id,
        platform=planned.account.platform,
        text=planned.text,
        media_ids=planned.media_ids,
        options=planned.options,
        status=TargetStatus.DRAFT if plan.draft else TargetStatus.SCHEDULED,
        due_at=None if plan.draft or plan.needs_approval else plan.due,
        progress={},
        attempts=0,
    )


def _edited_time(post: Post, patch: PostPatch) -> datetime | None:
    """When the edited post is due, as a draft says it (None: publish now; for a post that
    stays a draft: no time).

    Only an explicit ``"scheduled_at": null`` publishes now (as an absent or null time does on
    create). A new zone alone keeps the post's wall time: 09:00 in Paris becomes 09:00 in New
    York (the wall time is resolved in the new zone like any naive time: refused if the zone
    skips it, the earlier instant if it repeats it). Otherwise the instant stays; a draft
    without a time has none to keep (scheduled, it is published now)."""
    if "scheduled_at" in patch.model_fields_set and patch.scheduled_at is None:
        return None
    if patch.scheduled_at is not None:
        return patch.scheduled_at
    if not post.has_time:
        return None
    if patch.timezone is not None and patch.timezone != post.timezone:
        return wall_time(post.scheduled_at, post.timezone)
    return post.scheduled_at


def _target_in(target: Target) -> TargetIn:
    return TargetIn(
        account_id=target.account_id,
        text=target.text,
        media_ids=target.media_ids,
        options=target.options,
    )


posts = PostService()
