"""Periods and time buckets in a workspace's time zone.

A bucket is a local calendar unit: a day runs from one local midnight to the next (23 or 25
hours across a daylight-saving change), a week from a local Monday midnight, an hour is one
real hour starting on a local hour boundary (so the repeated hour of an autumn change is two
buckets with different offsets, and the skipped spring hour is no bucket at all). Bounds are
computed in Python with ``zoneinfo`` and handed to SQL as instants."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialseed.errors import BadRequest

#: Instants the API accepts (the platforms' history starts after, nothing is planned past).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class InvalidPeriod(BadRequest):
    default_detail = "`from` must be before `to`, both between 1970 and 2100."


class TooManyBuckets(BadRequest):
    default_detail = "This period holds too many buckets for this interval; use a longer one."


class Interval(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - self.length, self.start)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def resolve(
    start: datetime | None, end: datetime | None, *, now: datetime, default: timedelta
) -> Period:
    """The asked period; a missing ``to`` is the next whole UTC hour after ``now`` (so the
    answer, and its ETag, stay the same within the hour), a missing ``from`` is ``default``
    before ``to``."""
    try:
        hi = (
            _aware(end)
            if end is not None
            else now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        )
        lo = _aware(start) if start is not None else hi - default
        if not (EARLIEST <= lo < hi <= LATEST):
            raise InvalidPeriod()
    except (OverflowError, ValueError) as exc:
        raise InvalidPeriod() from exc
    return Period(lo.astimezone(UTC), hi.astimezone(UTC))


def zone(name: str | None) -> ZoneInfo:
    """The workspace's zone; UTC when it is unknown (no ``workspace.updated`` seen yet)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def buckets(period: Period, interval: Interval, tz: ZoneInfo, *, limit: int) -> list[datetime]:
    """The bucket bounds covering ``period``: ``n + 1`` instants (UTC) for ``n`` buckets, the
    first at or before ``period.start`` (the start of its local unit), the last at or after
    ``period.end``. :class:`TooManyBuckets` past ``limit``."""
    local = period.start.astimezone(tz)
    if interval is Interval.HOUR:
        first = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        n = -(-(period.end - first) // timedelta(hours=1))
        if n > limit:
            raise TooManyBuckets()
        return [first + timedelta(hours=i) for i in range(n + 1)]
    day = local.date()
    step = 1
    if interval is Interval.WEEK:
        day -= timedelta(days=day.weekday())
        step = 7
    bounds = [_local_midnight(day, tz)]
    while bounds[-1] < period.end:
        if len(bounds) > limit:
            raise TooManyBuckets()
        day += timedelta(days=step)
        bounds.append(_local_midnight(day, tz))
    return bounds
