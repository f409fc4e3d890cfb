"""Everything a post's targets are checked for before anything is stored (``checked_plan``):
each target's account, media, platform rules and publishing cap, every failing target named in
one ``InvalidTargets`` answer. Real PostgreSQL: the media and the posts counted against a cap
are read from it, within the workspace."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from publisher.models import AccountView, TargetStatus
from publisher.posts.schemas import TargetIn
from publisher.posts.validation import InvalidTargets, PlannedTarget, checked_plan
from services.publisher.tests.factories import (
    create_account,
    create_media,
    create_post,
    workspace,
)
from socialseed.security import Principal

DUE = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
# TikTok's documented cap: 15 posts per account in 24 hours.
TIKTOK_CAP, TIKTOK_WINDOW = 15, timedelta(hours=24)
TIKTOK_OK = {"privacy_level": "SELF_ONLY"}


async def plan(
    session: AsyncSession,
    ws: uuid.UUID,
    accounts: Sequence[AccountView],
    targets: Sequence[TargetIn],
    *,
    text: str = "hello",
    media_ids: Sequence[uuid.UUID] = (),
    due: datetime = DUE,
    exclude_post: uuid.UUID | None = None,
) -> list[PlannedTarget]:
    return await checked_plan(
        session,
        principal=Principal(user_id=uuid.uuid4(), roles={ws: "editor"}),  # a member of ws only
        workspace_id=ws,
        accounts={a.id: a for a in accounts},  # what the directory found in the workspace
        text=text,
        media_ids=list(media_ids),
        targets=targets,
        due=due,
        exclude_post=exclude_post,
    )


async def refused(session: AsyncSession, *args: object, **kwargs: object) -> list[dict[str, str]]:
    """The problems ``plan`` answers, as the composer receives them."""
    with pytest.raises(InvalidTargets) as exc:
        await plan(session, *args, **kwargs)  # type: ignore[arg-type]
    assert exc.value.status_code == 400
    body = exc.value.body()
    assert body["error"] == "InvalidTargets" and body["targets"] == exc.value.problems
    return exc.value.problems


def target(account: AccountView | uuid.UUID, **fields: object) -> TargetIn:
    account_id = account if isinstance(account, uuid.UUID) else account.id
    return TargetIn(account_id=account_id, **fields)  # type: ignore[arg-type]


async def test_a_fine_target_is_planned_with_its_options_as_stored(session: AsyncSession) -> None:
    ws = workspace()
    x = await create_account(session, workspace=ws, platform="x")
    linkedin = await create_account(session, workspace=ws, platform="linkedin")
    [px, pl] = await plan(
        session,
        ws,
        [x, linkedin],
        [target(x, text="for X", options={"reply_settings": "following"}), target(linkedin)],
    )
    assert (px.account.id, px.text, px.media_ids) == (x.id, "for X", None)
    assert px.options == {"reply_settings": "following", "thread": []}
    assert (pl.account.id, pl.text, pl.options) == (linkedin.id, None, {"visibility": "PUBLIC"})


async def test_options_say_their_platform_or_leave_it_out(session: AsyncSession) -> None:
    """Typed options (``platform`` set, as the web app sends them) and untyped ones (as API
    clients written before ``platform`` send them) plan alike; ``platform`` is not stored."""
    ws = workspace()
    tiktok = await create_account(session, workspace=ws, platform="tiktok")
    video = await create_media(session, workspace=ws, kind="video", mime_type="video/mp4")
    for options in ({"platform": "tiktok", **TIKTOK_OK}, TIKTOK_OK):
        [planned] = await plan(
            session, ws, [tiktok], [target(tiktok, options=options)], media_ids=[video.id]
        )
        assert planned.options["privacy_level"] == "SELF_ONLY"
        assert "platform" not in planned.options


async def test_options_for_another_platform_are_a_named_problem_of_their_target(
    session: AsyncSession,
) -> None:
    ws = workspace()
    x = await create_account(session, workspace=ws, platform="x")
    linkedin = await create_account(session, workspace=ws, platform="linkedin")
    problems = await refused(
        session,
        ws,
        [x, linkedin],
        [
            target(x, options={"platform": "tiktok", **TIKTOK_OK}),
            target(linkedin, options={"platform": "myspace"}),
            target(x, options={"platform": "x", "thread": ["more"]}),
        ],
    )
    assert [(p["account_id"], p["error"]) for p in problems] == [
        (str(x.id), "OptionsPlatformMismatch"),
        (str(linkedin.id), "OptionsPlatformMismatch"),
        (str(x.id), "DuplicateTarget"),
    ]
    assert problems[0]["detail"].startswith("These options are for TikTok; this account is on X.")
    assert "an unknown platform ('myspace')" in problems[1]["detail"]


async def test_every_broken_target_is_named_in_one_answer(session: AsyncSession) -> None:
    ws, other = workspace(), workspace()
    x = await create_account(session, workspace=ws, platform="x")
    youtube = await create_account(session, workspace=ws, platform="youtube")
    gone = await create_account(session, workspace=ws, platform="facebook", status="disconnected")
    stale = await create_account(session, workspace=ws, platform="linkedin", status="reauth_required")  # fmt: skip
    fine = await create_account(session, workspace=ws, platform="facebook")
    foreign_media = await create_media(session, workspace=other)
    foreign_account = uuid.uuid4()  # the directory found no such account in the workspace
    problems = await refused(
        session,
        ws,
        [x, youtube, gone, stale, fine],
        [
            target(x, text="a" * 260 + " https://example.com/" + "b" * 10),  # 260 + 1 + 23
            target(youtube),  # no video, no title
            target(foreign_account),
            target(gone),
            target(stale),
            target(fine, media_ids=[foreign_media.id]),
            target(x),
        ],
    )
    assert [(p["account_id"], p["error"]) for p in problems] == [
        (str(x.id), "PlatformRules"),
        (str(youtube.id), "PlatformRules"),
        (str(foreign_account), "AccountNotFound"),
        (str(gone.id), "AccountNotActive"),
        (str(stale.id), "AccountNotActive"),
        (str(fine.id), "MediaNotFound"),
        (str(x.id), "DuplicateTarget"),
    ]
    details = [p["detail"] for p in problems]
    assert "284 characters as X counts them" in details[0]
    assert details[1] == "Option title: Field required."  # options are read first
    assert details[3] == "The account is disconnected; pick another."
    assert details[4] == "The account is reauth required; reconnect it first."
    assert str(foreign_media.id) in details[5]  # another workspace's media is no media


async def test_a_target_is_checked_with_its_own_text_and_media_else_the_posts(
    session: AsyncSession,
) -> None:
    ws = workspace()
    tiktok = await create_account(session, workspace=ws, platform="tiktok")
    instagram = await create_account(session, workspace=ws, platform="instagram")
    clip = await create_media(session, workspace=ws, kind="video", duration_s=10)
    photo = await create_media(session, workspace=ws, kind="image")
    # the post's text and video suit TikTok; Instagram's own photo and caption suit it
    await plan(
        session,
        ws,
        [tiktok, instagram],
        [
            target(tiktok, options=TIKTOK_OK),
            target(instagram, text="#a " * 30, media_ids=[photo.id]),
        ],
        text="#a " * 31,
        media_ids=[clip.id],
    )
    # the post's 31 hashtags are Instagram's problem once the target takes the post's text
    problems = await refused(
        session,
        ws,
        [tiktok, instagram],
        [target(tiktok, options=TIKTOK_OK), target(instagram, media_ids=[photo.id])],
        text="#a " * 31,
        media_ids=[clip.id],
    )
    assert [(p["account_id"], p["error"]) for p in problems] == [
        (str(instagram.id), "PlatformRules")
    ]
    assert "30 hashtags" in problems[0]["detail"]
    # an empty list is "no media" for this target, not "the post's"
    problems = await refused(
        session, ws, [tiktok], [target(tiktok, media_ids=[], options=TIKTOK_OK)],
        media_ids=[clip.id],
    )  # fmt: skip
    assert "exactly one video" in problems[0]["detail"]


async def planned_tiktok_posts(
    session: AsyncSession, ws: uuid.UUID, account: AccountView, n: int, at: datetime, **kw: object
) -> None:
    for _ in range(n):
        await create_post(session, workspace=ws, accounts=[account], scheduled_at=at, **kw)  # type: ignore[arg-type]


async def test_an_account_at_its_cap_is_named_and_the_others_pass(session: AsyncSession) -> None:
    ws = workspace()
    full = await create_account(session, workspace=ws, platform="tiktok", username="full")
    free = await create_account(session, workspace=ws, platform="tiktok", username="free")
    clip = await create_media(session, workspace=ws, kind="video")
    targets = [target(full, options=TIKTOK_OK), target(free, options=TIKTOK_OK)]
    # the window ends at the new post's time: posts at its very start are outside it
    await planned_tiktok_posts(session, ws, full, TIKTOK_CAP - 1, DUE - TIKTOK_WINDOW / 2)
    await planned_tiktok_posts(session, ws, full, 3, DUE - TIKTOK_WINDOW)
    assert len(await plan(session, ws, [full, free], targets, media_ids=[clip.id])) == 2
    await planned_tiktok_posts(session, ws, full, 1, DUE)
    problems = await refused(session, ws, [full, free], targets, media_ids=[clip.id])
    assert [(p["account_id"], p["error"]) for p in problems] == [
        (str(full.id), "PublishingCapReached")
    ]


@pytest.mark.parametrize(
    ("status", "counted"),
    [
        (TargetStatus.SCHEDULED, True),
        (TargetStatus.WAITING, True),
        (TargetStatus.PUBLISHING, True),
        (TargetStatus.IN_DOUBT, True),
        (TargetStatus.PUBLISHED, True),
        (TargetStatus.FAILED, False),
        (TargetStatus.CANCELLED, False),
    ],
)
async def test_the_cap_counts_what_is_published_or_still_going_to_be(
    session: AsyncSession, status: TargetStatus, counted: bool
) -> None:
    ws = workspace()
    account = await create_account(session, workspace=ws, platform="tiktok")
    clip = await create_media(session, workspace=ws, kind="video")
    await planned_tiktok_posts(
        session, ws, account, TIKTOK_CAP, DUE - timedelta(hours=1), statuses=[status]
    )
    targets = [target(account, options=TIKTOK_OK)]
    if counted:
        [problem] = await refused(session, ws, [account], targets, media_ids=[clip.id])
        assert problem["error"] == "PublishingCapReached"
    else:
        assert len(await plan(session, ws, [account], targets, media_ids=[clip.id])) == 1


async def test_a_published_target_counts_at_its_publish_time(session: AsyncSession) -> None:
    """A post scheduled long ago but published just before the new one's time is in its
    window (and the other way round)."""
    ws = workspace()
    account = await create_account(session, workspace=ws, platform="tiktok")
    clip = await create_media(session, workspace=ws, kind="video")
    targets = [target(account, options=TIKTOK_OK)]
    old = DUE - timedelta(days=3)
    await planned_tiktok_posts(
        session, ws, account, TIKTOK_CAP, old, statuses=[TargetStatus.PUBLISHED],
        published_at=DUE - timedelta(hours=1),
    )  # fmt: skip
    [problem] = await refused(session, ws, [account], targets, media_ids=[clip.id])
    assert problem["error"] == "PublishingCapReached"
    # published long before: no longer counted, though scheduled inside the window
    ws2 = workspace()
    other = await create_account(session, workspace=ws2, platform="tiktok")
    clip2 = await create_media(session, workspace=ws2, kind="video")
    await planned_tiktok_posts(
        session, ws2, other, TIKTOK_CAP, DUE - timedelta(hours=1),
        statuses=[TargetStatus.PUBLISHED], published_at=old,
    )  # fmt: skip
    assert len(await plan(session, ws2, [other], [target(other, options=TIKTOK_OK)],
                          media_ids=[clip2.id])) == 1  # fmt: skip


async def test_an_edit_does_not_count_the_post_against_itself(session: AsyncSession) -> None:
    ws = workspace()
    account = await create_account(session, workspace=ws, platform="tiktok")
    clip = await create_media(session, workspace=ws, kind="video")
    await planned_tiktok_posts(session, ws, account, TIKTOK_CAP - 1, DUE - timedelta(hours=2))
    edited = await create_post(session, workspace=ws, accounts=[account], scheduled_at=DUE)
    targets = [target(account, options=TIKTOK_OK)]
    [problem] = await refused(session, ws, [account], targets, media_ids=[clip.id])
    assert problem["error"] == "PublishingCapReached"
    planned = await plan(
        session, ws, [account], targets, media_ids=[clip.id], exclude_post=edited.id
    )
    assert [p.account.id for p in planned] == [account.id]
