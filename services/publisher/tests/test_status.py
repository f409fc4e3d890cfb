"""A post's status from its approval and its targets' statuses (``status.derive``): what the
calendar filters on, rewritten whenever a target changes."""

from __future__ import annotations

import itertools

import pytest

from publisher.models import Approval, PostStatus, TargetStatus
from publisher.posts.status import derive

T = TargetStatus
GO = (Approval.NOT_REQUIRED, Approval.APPROVED)  # nothing holds the post back


@pytest.mark.parametrize(
    ("targets", "status"),
    [
        ([T.SCHEDULED], PostStatus.SCHEDULED),
        ([T.WAITING], PostStatus.SCHEDULED),  # held by a limit, not started
        ([T.SCHEDULED, T.WAITING], PostStatus.SCHEDULED),
        ([T.PUBLISHING], PostStatus.PUBLISHING),
        ([T.IN_DOUBT], PostStatus.PUBLISHING),  # the outcome is still being reconciled
        ([T.SCHEDULED, T.PUBLISHING], PostStatus.PUBLISHING),
        ([T.SCHEDULED, T.PUBLISHED], PostStatus.PUBLISHING),  # one done, one to go
        ([T.WAITING, T.FAILED], PostStatus.PUBLISHING),
        ([T.IN_DOUBT, T.PUBLISHED], PostStatus.PUBLISHING),
        ([T.PUBLISHED], PostStatus.PUBLISHED),
        ([T.PUBLISHED, T.PUBLISHED], PostStatus.PUBLISHED),
        ([T.PUBLISHED, T.CANCELLED], PostStatus.PUBLISHED),  # a disconnect cancelled one
        ([T.FAILED], PostStatus.FAILED),
        ([T.FAILED, T.FAILED, T.CANCELLED], PostStatus.FAILED),
        ([T.PUBLISHED, T.FAILED], PostStatus.PARTIALLY_PUBLISHED),
        ([T.FAILED, T.PUBLISHED, T.CANCELLED], PostStatus.PARTIALLY_PUBLISHED),
        ([T.SCHEDULED, T.CANCELLED], PostStatus.SCHEDULED),
        ([T.CANCELLED], PostStatus.CANCELLED),
        ([T.CANCELLED, T.CANCELLED], PostStatus.CANCELLED),
        ([], PostStatus.CANCELLED),  # a cancelled post: its targets as the cancel left them
    ],
)
@pytest.mark.parametrize("approval", GO)
def test_an_approved_post_follows_its_targets(
    approval: Approval, targets: list[TargetStatus], status: PostStatus
) -> None:
    assert derive(approval, targets) == status
    assert derive(approval.value, [t.value for t in targets]) == status  # as stored: strings


@pytest.mark.parametrize(
    ("approval", "status"),
    [(Approval.PENDING, PostStatus.PENDING_APPROVAL), (Approval.REJECTED, PostStatus.REJECTED)],
)
def test_a_post_waiting_for_or_refused_approval_says_so(
    approval: Approval, status: PostStatus
) -> None:
    for targets in ([T.SCHEDULED], [T.SCHEDULED, T.SCHEDULED], [T.SCHEDULED, T.CANCELLED]):
        assert derive(approval, targets) == status
    # a post whose every target was cancelled is cancelled, approval or not
    assert derive(approval, [T.CANCELLED]) == PostStatus.CANCELLED
    assert derive(approval, []) == PostStatus.CANCELLED


COMBINATIONS = [
    list(c)
    for n in range(1, 4)
    for c in itertools.combinations_with_replacement(list(TargetStatus), n)
]


@pytest.mark.parametrize("approval", list(Approval))
def test_the_order_of_targets_and_cancelled_ones_beside_live_ones_do_not_matter(
    approval: Approval,
) -> None:
    for targets in COMBINATIONS:
        status = derive(approval, targets)
        for order in itertools.permutations(targets):
            assert derive(approval, list(order)) == status, targets
        live = [t for t in targets if t is not T.CANCELLED]
        assert (status == PostStatus.CANCELLED) == (not live), targets
        if live:
            assert derive(approval, live) == status, targets
            assert derive(approval, [*targets, T.CANCELLED]) == status, targets


def test_an_unknown_target_status_is_not_read_as_any() -> None:
    with pytest.raises(ValueError, match="'queued'"):
        derive(Approval.NOT_REQUIRED, ["queued"])
