"""A post's status, derived from its approval and its targets' statuses."""

from __future__ import annotations

from collections.abc import Iterable

from publisher.models import Approval, PostStatus, TargetStatus

OPEN = frozenset({TargetStatus.SCHEDULED, TargetStatus.WAITING})
# Not started: an edit replaces these targets (a draft's, or those waiting for their time).
EDITABLE = OPEN | {TargetStatus.DRAFT}
# Publishing has started: the target can no longer be edited or cancelled.
STARTED = frozenset(
    {TargetStatus.PUBLISHING, TargetStatus.IN_DOUBT, TargetStatus.PUBLISHED, TargetStatus.FAILED}
)


def derive(approval: str, targets: Iterable[str]) -> PostStatus:
    statuses = [TargetStatus(s) for s in targets]
    live = [s for s in statuses if s is not TargetStatus.CANCELLED]
    if not live:
        return PostStatus.CANCELLED
    if any(s is TargetStatus.DRAFT for s in live):
        return PostStatus.DRAFT
    if approval == Approval.PENDING:
        return PostStatus.PENDING_APPROVAL
    if approval == Approval.REJECTED:
        return PostStatus.REJECTED
    if all(s is TargetStatus.PUBLISHED for s in live):
        return PostStatus.PUBLISHED
    if all(s is TargetStatus.FAILED for s in live):
        return PostStatus.FAILED
    if all(s in (TargetStatus.PUBLISHED, TargetStatus.FAILED) for s in live):
        return PostStatus.PARTIALLY_PUBLISHED
    if any(s in STARTED for s in live):
        return PostStatus.PUBLISHING
    return PostStatus.SCHEDULED
