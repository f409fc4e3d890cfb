"""Tenant scoping, repository by repository: every read a caller can reach shows a workspace's
row to a member of that workspace and never to a member of another one.

Each case below is one caller-facing repository read, run against the real database (each
service's schema, built by its migrations) in a transaction that is rolled back. The cases
are checked against the repositories themselves: every public method of a caller-facing
repository must be either a case here or in ``UNSCOPED`` with the reason it takes no
principal, so a new read added without scoping fails ``test_every_repository_read_is_classified``
until someone decides which it is (see ``socialseed.repository``)."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.connections.repository import AccountRepository
from accounts.models import Account as ConnectedAccount
from analytics.models import Account as TrackedAccount
from analytics.models import Sync, TrackedPost
from analytics.queries.periods import Period
from analytics.queries.repository import QueryRepository
from analytics.syncs.repository import SyncRepository
from auth.apikeys.repository import ApiKeyRepository
from auth.models import ApiKey, Invitation, Membership, User, Workspace
from auth.users.repository import UserRepository
from auth.workspaces.repository import InvitationRepository, WorkspaceRepository
from publisher.idempotency.repository import IdempotencyRepository
from publisher.media.repository import MediaRepository
from publisher.models import Approval, Media, Post, Target, TargetStatus
from publisher.posts.repository import CalendarQuery, PostRepository
from socialseed.db import Database
from socialseed.errors import NotFound
from socialseed.repository import Page, Repository
from socialseed.security import Principal
from socialseed.testing import Infra
from webhooks.hooks.repository import DeliveryRepository, EndpointRepository
from webhooks.models import Delivery, Endpoint

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@dataclass
class World:
    """One service's rows of workspace ``ws`` (the owner's) and the two readers: ``owner``, a
    member of ``ws``, and ``stranger``, a member of another workspace only."""

    ws: uuid.UUID
    owner: Any
    stranger: Any
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def principals(ws: uuid.UUID) -> tuple[Principal, Principal]:
    other = uuid.uuid4()
    return (
        Principal(user_id=uuid.uuid4(), roles={ws: "owner"}),
        Principal(user_id=uuid.uuid4(), roles={other: "owner"}),
    )


# Seeds: one per service -----------------------------------------------------------------------
async def seed_accounts(session: AsyncSession) -> World:
    ws = uuid.uuid4()
    owner, stranger = principals(ws)
    account = ConnectedAccount(
        workspace_id=ws,
        platform="x",
        platform_user_id=uuid.uuid4().hex,
        username="scoped",
        display_name="Scoped",
        connected_by=owner.user_id,
        scopes=[],
        consecutive_failures=0,
    )
    await AccountRepository(session).add(account)
    return World(ws, owner, stranger, {"account": account.id})


async def seed_publisher(session: AsyncSession) -> World:
    ws = uuid.uuid4()
    owner, stranger = principals(ws)
    account_id = uuid.uuid4()
    media = Media(
        workspace_id=ws,
        uploaded_by=owner.user_id,
        kind="image",
        mime_type="image/png",
        size=1,
        storage_key=f"{ws}/scoped",
        sha256="0" * 64,
    )
    target = Target(
        position=0,
        workspace_id=ws,
        account_id=account_id,
        platform="x",
        status=TargetStatus.SCHEDULED,
        due_at=NOW,
    )
    post = Post(
        workspace_id=ws,
        author_id=owner.user_id,
        text="scoped",
        media_ids=[],
        scheduled_at=NOW,
        timezone="UTC",
        status="scheduled",
        approval=Approval.NOT_REQUIRED,
        targets=[target],
    )
    await PostRepository(session).add_all([media, post])
    # An idempotency record of the owner's: keyed by workspace and caller (the row's "id" for
    # this check is its workspace).
    await IdempotencyRepository(session).save(
        ws, owner.user_id, "scoped-key", fingerprint="0" * 64, status_code=201, body={}
    )
    return World(ws, owner, stranger, {"post": post.id, "media": media.id, "ws": ws})


async def seed_analytics(session: AsyncSession) -> World:
    ws = uuid.uuid4()
    owner, stranger = principals(ws)
    account = TrackedAccount(
        id=uuid.uuid4(),
        workspace_id=ws,
        platform="x",
        platform_user_id="scoped",
        username="scoped",
        status="active",
        tracking=True,
        updated_at=NOW,
    )
    post = TrackedPost(
        id=uuid.uuid4(),
        account_id=account.id,
        workspace_id=ws,
        platform="x",
        platform_post_id="scoped",
        publisher_post_id=uuid.uuid4(),
        published_at=NOW,
        source="publisher",
        status="active",
    )
    sync = Sync(workspace_id=ws, status="queued", by_platform={})
    repo = QueryRepository(session, cutoff=NOW)
    await repo.add(account)
    await repo.add_all([post, sync])
    return World(
        ws,
        owner,
        stranger,
        {"account": account.id, "post": post.id, "sync": sync.id},
        {"publisher_post": post.publisher_post_id},
    )


async def seed_auth(session: AsyncSession) -> World:
    """The owner's workspace with a pending invitation to ``invitee``; the stranger owns a
    workspace of their own (so their lists are not empty) and was invited there too."""
    users = [
        User(email=f"{name}-{uuid.uuid4().hex}@scoping.test", name=name, password_hash="x")
        for name in ("owner", "stranger", "invitee")
    ]
    owner, stranger, invitee = users
    ws = Workspace(name="scoped", timezone="UTC")
    theirs = Workspace(name="theirs", timezone="UTC")
    repo = WorkspaceRepository(session)
    await repo.add_all([*users, ws, theirs])
    invitation = Invitation(
        workspace_id=ws.id,
        email=invitee.email,
        role="editor",
        invited_by=owner.id,
        created_at=NOW,
        expires_at=NOW + timedelta(days=7),
    )
    await repo.add_all(
        [
            Membership(workspace_id=ws.id, user_id=owner.id, role="owner"),
            Membership(workspace_id=theirs.id, user_id=stranger.id, role="owner"),
            invitation,
        ]
    )
    api_key = ApiKey(
        workspace_id=ws.id,
        name="scoped",
        role="editor",
        prefix="ssk_scoped",
        key_hash=uuid.uuid4().bytes * 2,
        created_by=owner.id,
    )
    await repo.add(api_key)
    return World(
        ws.id,
        owner.id,
        stranger.id,
        {"invitation": invitation.id, "owner": owner.id, "api_key": api_key.id},
        {"invitee": invitee, "stranger_email": stranger.email},
    )


async def seed_webhooks(session: AsyncSession) -> World:
    ws = uuid.uuid4()
    owner, stranger = principals(ws)
    endpoint = Endpoint(
        workspace_id=ws,
        url="https://hooks.example.com/in",
        description="",
        events=["post.published"],
        enabled=True,
        secret=b"encrypted",
        created_by=owner.user_id,
        created_at=NOW,
        updated_at=NOW,
    )
    await EndpointRepository(session).add(endpoint)
    delivery = Delivery(
        endpoint_id=endpoint.id,
        workspace_id=ws,
        webhook_id="msg_scoped",
        event_type="post.published",
        body="{}",
        status="pending",
        attempt=0,
        next_attempt_at=NOW,
        created_at=NOW,
    )
    await DeliveryRepository(session).add(delivery)
    return World(ws, owner, stranger, {"endpoint": endpoint.id, "delivery": delivery.id})


SEEDS: dict[str, Callable[[AsyncSession], Awaitable[World]]] = {
    "webhooks": seed_webhooks,
    "accounts": seed_accounts,
    "publisher": seed_publisher,
    "analytics": seed_analytics,
    "auth": seed_auth,
}


# The caller-facing reads ------------------------------------------------------------------------
#: A read as a member of the world's workspace (``as_owner``) or of another one; it answers
#: the ids it let through.
ReadFn = Callable[[AsyncSession, World, bool], Awaitable[object]]


@dataclass(frozen=True)
class Read:
    repository: type[Any]
    method: str
    service: str
    row: str  # the key in ``World.ids`` of the row that must be seen or not
    run: ReadFn

    @property
    def name(self) -> str:
        return f"{self.repository.__name__}.{self.method}"


def who(world: World, as_owner: bool) -> Any:
    return world.owner if as_owner else world.stranger


def analytics(session: AsyncSession) -> QueryRepository:
    return QueryRepository(session, cutoff=NOW)


async def _dashboard_accounts(session: AsyncSession, world: World, as_owner: bool) -> object:
    period = Period(NOW - timedelta(days=30), NOW)
    rows = await analytics(session).dashboard_accounts(who(world, as_owner), world.ws, period)
    return [row["id"] for row in rows]


def _auth_invitee(world: World, as_owner: bool) -> tuple[uuid.UUID, str]:
    invitee = world.extra["invitee"]
    return (
        (invitee.id, invitee.email) if as_owner else (world.stranger, world.extra["stranger_email"])
    )


READS = [
    # accounts
    Read(
        AccountRepository,
        "get",
        "accounts",
        "account",
        lambda s, w, o: AccountRepository(s).get(who(w, o), w.ids["account"]),
    ),
    Read(
        AccountRepository,
        "get_or_none",
        "accounts",
        "account",
        lambda s, w, o: AccountRepository(s).get_or_none(who(w, o), w.ids["account"], lock=True),
    ),
    Read(
        AccountRepository,
        "for_workspace",
        "accounts",
        "account",
        lambda s, w, o: AccountRepository(s).for_workspace(who(w, o), w.ws),
    ),
    # publisher: posts and media
    Read(
        PostRepository,
        "get",
        "publisher",
        "post",
        lambda s, w, o: PostRepository(s).get(who(w, o), w.ids["post"], lock=True),
    ),
    Read(
        PostRepository,
        "get_or_none",
        "publisher",
        "post",
        lambda s, w, o: PostRepository(s).get_or_none(who(w, o), w.ids["post"]),
    ),
    Read(
        PostRepository,
        "calendar",
        "publisher",
        "post",
        lambda s, w, o: PostRepository(s).calendar(who(w, o), CalendarQuery(w.ws)),
    ),
    Read(
        PostRepository,
        "calendar_entries",
        "publisher",
        "post",
        lambda s, w, o: _chips(s, w, o),
    ),
    Read(
        MediaRepository,
        "get",
        "publisher",
        "media",
        lambda s, w, o: MediaRepository(s).get(who(w, o), w.ids["media"]),
    ),
    Read(
        MediaRepository,
        "get_or_none",
        "publisher",
        "media",
        lambda s, w, o: MediaRepository(s).get_or_none(who(w, o), w.ids["media"]),
    ),
    Read(
        MediaRepository,
        "library",
        "publisher",
        "media",
        lambda s, w, o: MediaRepository(s).library(who(w, o), w.ws, 10),
    ),
    Read(
        MediaRepository,
        "in_workspace",
        "publisher",
        "media",
        lambda s, w, o: MediaRepository(s).in_workspace(who(w, o), w.ws, {w.ids["media"]}),
    ),
    # analytics: tracked accounts and posts, syncs
    Read(
        QueryRepository,
        "get",
        "analytics",
        "account",
        lambda s, w, o: analytics(s).get(who(w, o), w.ids["account"]),
    ),
    Read(
        QueryRepository,
        "get_or_none",
        "analytics",
        "account",
        lambda s, w, o: analytics(s).get_or_none(who(w, o), w.ids["account"]),
    ),
    Read(
        QueryRepository,
        "accounts",
        "analytics",
        "account",
        lambda s, w, o: analytics(s).accounts(who(w, o), [w.ids["account"]]),
    ),
    Read(
        QueryRepository,
        "workspace_accounts",
        "analytics",
        "account",
        lambda s, w, o: analytics(s).workspace_accounts(who(w, o), w.ws),
    ),
    Read(QueryRepository, "dashboard_accounts", "analytics", "account", _dashboard_accounts),
    Read(
        QueryRepository,
        "tracked_posts_of",
        "analytics",
        "post",
        lambda s, w, o: analytics(s).tracked_posts_of(who(w, o), w.extra["publisher_post"]),
    ),
    Read(
        SyncRepository,
        "account",
        "analytics",
        "account",
        lambda s, w, o: SyncRepository(s).account(who(w, o), w.ids["account"]),
    ),
    Read(
        SyncRepository,
        "get",
        "analytics",
        "sync",
        lambda s, w, o: SyncRepository(s).get(who(w, o), w.ids["sync"]),
    ),
    Read(
        SyncRepository,
        "get_or_none",
        "analytics",
        "sync",
        lambda s, w, o: SyncRepository(s).get_or_none(who(w, o), w.ids["sync"]),
    ),
    # auth: workspaces, members, invitations
    Read(
        WorkspaceRepository,
        "for_user",
        "auth",
        "workspace",
        lambda s, w, o: WorkspaceRepository(s).for_user(who(w, o)),
    ),
    Read(
        WorkspaceRepository,
        "with_role",
        "auth",
        "workspace",
        lambda s, w, o: WorkspaceRepository(s).with_role(w.ws, who(w, o), lock=True),
    ),
    Read(
        WorkspaceRepository,
        "members",
        "auth",
        "owner",
        lambda s, w, o: WorkspaceRepository(s).members(who(w, o), w.ws),
    ),
    Read(
        WorkspaceRepository,
        "member",
        "auth",
        "owner",
        lambda s, w, o: WorkspaceRepository(s).member(who(w, o), w.ws, w.ids["owner"]),
    ),
    Read(
        InvitationRepository,
        "pending_for_workspace",
        "auth",
        "invitation",
        lambda s, w, o: InvitationRepository(s).pending_for_workspace(who(w, o), w.ws, NOW),
    ),
    Read(InvitationRepository, "pending", "auth", "invitation", lambda s, w, o: _pending(s, w, o)),
    # webhooks: endpoints and their deliveries
    Read(
        EndpointRepository,
        "get",
        "webhooks",
        "endpoint",
        lambda s, w, o: EndpointRepository(s).get(who(w, o), w.ids["endpoint"]),
    ),
    Read(
        EndpointRepository,
        "get_or_none",
        "webhooks",
        "endpoint",
        lambda s, w, o: EndpointRepository(s).get_or_none(who(w, o), w.ids["endpoint"]),
    ),
    Read(
        EndpointRepository,
        "for_workspace",
        "webhooks",
        "endpoint",
        lambda s, w, o: EndpointRepository(s).for_workspace(who(w, o), w.ws),
    ),
    Read(
        DeliveryRepository,
        "get",
        "webhooks",
        "delivery",
        lambda s, w, o: DeliveryRepository(s).get(who(w, o), w.ids["delivery"]),
    ),
    Read(
        DeliveryRepository,
        "get_or_none",
        "webhooks",
        "delivery",
        lambda s, w, o: DeliveryRepository(s).get_or_none(who(w, o), w.ids["delivery"]),
    ),
    Read(
        DeliveryRepository,
        "of_endpoint",
        "webhooks",
        "delivery",
        lambda s, w, o: DeliveryRepository(s).of_endpoint(who(w, o), w.ids["endpoint"], None, 10),
    ),
    Read(
        DeliveryRepository,
        "of_endpoint_by_id",
        "webhooks",
        "delivery",
        lambda s, w, o: DeliveryRepository(s).of_endpoint_by_id(
            who(w, o), w.ids["endpoint"], w.ids["delivery"]
        ),
    ),
    Read(
        ApiKeyRepository,
        "of_workspace",
        "auth",
        "api_key",
        lambda s, w, o: ApiKeyRepository(s).of_workspace(who(w, o), w.ws),
    ),
    Read(
        ApiKeyRepository,
        "get",
        "auth",
        "api_key",
        lambda s, w, o: ApiKeyRepository(s).get(who(w, o), w.ids["api_key"]),
    ),
    Read(
        IdempotencyRepository,
        "find",
        "publisher",
        "ws",
        lambda s, w, o: IdempotencyRepository(s).find(
            w.ws, who(w, o).user_id, "scoped-key", NOW - timedelta(days=3650)
        ),
    ),
]


async def _chips(session: AsyncSession, world: World, as_owner: bool) -> object:
    """The calendar's chips are rows of columns: their ids."""
    page = await PostRepository(session).calendar_entries(
        who(world, as_owner), CalendarQuery(world.ws), 100
    )
    return [SimpleNamespace(id=row.id) for row in page.items]


async def _me_invitations(session: AsyncSession, world: World, as_owner: bool) -> object:
    """``/auth/me``'s invitations: those to the caller's own email only."""
    user_id, _ = _auth_invitee(world, as_owner)
    row = await UserRepository(session).me(user_id, NOW)
    invitations = row.invitations if row is not None else None
    return [SimpleNamespace(id=uuid.UUID(str(i[0]))) for i in invitations or []]


async def _pending(session: AsyncSession, world: World, as_owner: bool) -> object:
    """Both audiences of an invitation: its workspace's members and the invitee."""
    repo, invitation = InvitationRepository(session), world.ids["invitation"]
    by_member = await repo.pending(repo.readable(who(world, as_owner)), invitation, NOW)
    _, email = _auth_invitee(world, as_owner)
    by_invitee = await repo.pending(repo.addressed_to(email), invitation, NOW)
    return [by_member, by_invitee] if as_owner else [r for r in (by_member, by_invitee) if r]


#: Public methods of the caller-facing repositories that take no principal, and why. A new
#: public method must be added to ``READS`` (scoped, with its case) or here (with a reason).
UNSCOPED: dict[str, str] = {
    # the base's building blocks: they run the statement they are given (``readable(...)``)
    **{
        f"{cls.__name__}.{m}": "building block"
        for cls in (
            AccountRepository,
            PostRepository,
            MediaRepository,
            QueryRepository,
            SyncRepository,
            WorkspaceRepository,
            InvitationRepository,
            EndpointRepository,
            DeliveryRepository,
        )
        for m in ("statement", "one_or_none", "one", "all", "add", "add_all", "page")
    },
    "AccountRepository.get_unscoped": "internal token endpoint, refresher, CLI",
    "AccountRepository.by_identity": "OAuth callback: the workspace comes from the signed state",
    "AccountRepository.refresh_candidates": "background refresher",
    "AccountRepository.sync_due": "background profile sync",
    "AccountRepository.expiring_grants": "background expiry warnings (every workspace)",
    "AccountRepository.count_all": "rotate-keys progress: every account, an operator command",
    "AccountRepository.batch_after": "key rotation CLI",
    "PostRepository.get_unscoped": "workers",
    "PostRepository.remove": "delete of a draft already read through readable()",
    "PostRepository.scheduled_near": "publishing caps: counts per account, no rows returned",
    "PostRepository.refresh_statuses": "write after targets changed (workers, disconnects)",
    "PostRepository.open_targets_of_account": "account.disconnected consumer",
    "PostRepository.accounts_due_by": "the token warm-up (accounts due soon, every workspace)",
    "PostRepository.due_targets": "dispatcher",
    "PostRepository.dispatch_due": "dispatcher",
    "PostRepository.next_due_at": "dispatcher",
    "PostRepository.locked_target": "publishing worker",
    "MediaRepository.get_unscoped": "signed media address (the signature is the check)",
    "MediaRepository.in_workspace_unscoped": "publishing worker: the post's media",
    "MediaRepository.in_use": "delete: after the media was read through readable",
    "MediaRepository.delete": "delete: after the media was read through readable",
    "QueryRepository.get_unscoped": "unused by callers (base)",
    "QueryRepository.readable_posts": "the scope itself",
    "QueryRepository.timezone": "of a workspace the caller was checked against",
    "QueryRepository.workspace_name": "of a workspace the caller was checked against",
    "QueryRepository.data_versions": "of workspaces the caller was checked against (ETags)",
    "QueryRepository.workspace_top_posts": "of a workspace the caller was checked against (the dashboard)",
    **{
        f"QueryRepository.{m}": "metrics of accounts/posts read through readable"
        for m in (
            "account_values_at",
            "account_series",
            "post_totals",
            "top_posts",
            "post_rates_input",
            "account_posts",
            "post_latest",
            "post_history",
            "post_series",
        )
    },
    "SyncRepository.get_unscoped": "unused by callers (base)",
    "SyncRepository.create_sync": "write, in a workspace the caller was checked against",
    "SyncRepository.lock_refreshes": "advisory lock of a checked workspace",
    "SyncRepository.covering_sync": "of a workspace the caller was checked against",
    "SyncRepository.account_status": "of a workspace the caller was checked against",
    "SyncRepository.posts_left": "of a sync the caller read through readable()",
    "SyncRepository.problems_since": "of a sync the caller read through readable()",
    "SyncRepository.budgets": "the caller's accounts' own buckets (sync status)",
    "WorkspaceRepository.get_unscoped": "unused by callers (base)",
    **{
        f"{cls.__name__}.{m}": "building block"
        for cls in (ApiKeyRepository, IdempotencyRepository)
        for m in ("statement", "one_or_none", "one", "all", "add", "add_all", "page")
    },
    "ApiKeyRepository.get_unscoped": "unused by callers (base)",
    "ApiKeyRepository.live_by_hash_unscoped": "the exchange: the key is the credential",
    "ApiKeyRepository.touch": "write of last use, by the exchange",
    "IdempotencyRepository.get_unscoped": "unused by callers (base)",
    "IdempotencyRepository.try_lock": "advisory lock of a checked workspace and the caller",
    "IdempotencyRepository.save": "write, in a workspace the caller was checked against",
    "IdempotencyRepository.purge": "expiry purge (background)",
    "WorkspaceRepository.readable_members": "the scope itself",
    "WorkspaceRepository.lock": "row lock of a checked workspace",
    "WorkspaceRepository.remove_member": "write, in a checked workspace",
    "WorkspaceRepository.owner_count": "of a checked workspace",
    "InvitationRepository.get_unscoped": "unused by callers (base)",
    "InvitationRepository.addressed_to": "the scope itself (the invitee's)",
    "InvitationRepository.replace": "write, in a checked workspace",
    "EndpointRepository.get_unscoped": "the sender, after recording an attempt",
    "EndpointRepository.remove": "delete of an endpoint already read through readable()",
    "EndpointRepository.subscribed_unscoped": "event consumers and the sender (fan-out)",
    "EndpointRepository.claim_busy_unscoped": "the sender's claim",
    "EndpointRepository.release_unscoped": "the sender, after an attempt",
    "DeliveryRepository.get_unscoped": "unused by callers (base)",
    "DeliveryRepository.record_unscoped": "the sender, after an attempt",
    "DeliveryRepository.queue_unscoped": "event consumers and the sender (fan-out)",
    "DeliveryRepository.purge_finished_unscoped": "the retention leader (every workspace's, by age)",
    "DeliveryRepository.notify_due": "wakes the senders (NOTIFY); reads nothing",
}
#: The scope methods themselves.
SCOPES = {"readable"}
CALLER_FACING = {r.repository for r in READS}


def public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") and name not in SCOPES and not inspect.isclass(member)
    }


def test_every_repository_read_is_classified() -> None:
    scoped = {r.name for r in READS}
    for cls in CALLER_FACING:
        assert issubclass(cls, Repository), f"{cls.__name__} is not on the repository base"
        methods = {f"{cls.__name__}.{m}" for m in public_methods(cls)}
        unclassified = methods - scoped - set(UNSCOPED)
        assert not unclassified, (
            f"{sorted(unclassified)}: read through readable() and add a case to READS, "
            "or list it in UNSCOPED with the reason it takes no principal"
        )
    assert not (scoped & set(UNSCOPED)), scoped & set(UNSCOPED)


@asynccontextmanager
async def rolled_back(infra: Infra, service: str) -> AsyncIterator[AsyncSession]:
    db = Database(infra.service_url(service), pool_size=2)
    try:
        async with db.sessions() as session:
            await session.begin()
            try:
                yield session
            finally:
                await session.rollback()
    finally:
        await db.dispose()


def seen(result: object) -> set[uuid.UUID]:
    """Every id (and workspace id) among the rows a read answered."""
    if result is None:
        return set()
    if isinstance(result, uuid.UUID):
        return {result}
    if isinstance(result, Page):
        return seen(result.items)
    if isinstance(result, dict):
        return seen(list(result.values()))
    if isinstance(result, Iterable) and not isinstance(result, str):
        return set().union(*(seen(r) for r in result))
    ids = {getattr(result, a, None) for a in ("id", "workspace_id", "user_id")}
    return {i for i in ids if isinstance(i, uuid.UUID)}


async def read(run: ReadFn, session: AsyncSession, world: World, as_owner: bool) -> set[uuid.UUID]:
    try:
        async with session.begin_nested():
            return seen(await run(session, world, as_owner))
    except NotFound:
        return set()


@pytest.mark.parametrize("case", READS, ids=lambda r: r.name)
async def test_another_workspace_row_is_invisible(infra: Infra, case: Read) -> None:
    async with rolled_back(infra, case.service) as session:
        world = await SEEDS[case.service](session)
        row = world.ws if case.row == "workspace" else world.ids[case.row]
        assert row in await read(case.run, session, world, as_owner=True), "the owner sees it"
        assert row not in await read(case.run, session, world, as_owner=False)


async def test_me_lists_the_invitations_to_the_caller_s_email_only(infra: Infra) -> None:
    """``/auth/me`` reads by the caller's id, not a workspace: its invitations are those to the
    caller's own email (the invitee sees the invitation, a stranger does not)."""
    async with rolled_back(infra, "auth") as session:
        world = await SEEDS["auth"](session)
        invitation = world.ids["invitation"]
        assert invitation in await read(_me_invitations, session, world, as_owner=True)
        assert invitation not in await read(_me_invitations, session, world, as_owner=False)
