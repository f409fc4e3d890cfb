"""When a post is due: an instant, or a wall time in an IANA zone.

``scheduled_at`` with an offset is an instant. Without one it is a wall time in the post's zone:
a wall time the zone skips (spring forward) does not exist and is refused, naming the valid
neighbours; a wall time the zone repeats (fall back) is the earlier of its two instants.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from socialseed.errors import BadRequest

_ZONES = frozenset(available_timezones())


class InvalidTimezone(BadRequest):
    default_detail = "Not an IANA time zone name."


class NonexistentLocalTime(BadRequest):
    default_detail = "This local time does not exist in the time zone (clocks skip it)."


class ScheduledInPast(BadRequest):
    default_detail = "The scheduled time has passed."


class ScheduledTooFar(BadRequest):
    default_detail = "The scheduled time is too far ahead."


def zone(name: str) -> ZoneInfo:
    if name not in _ZONES:
        raise InvalidTimezone(f"{name!r} is not an IANA time zone name (e.g. Europe/Paris).")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # listed but not loadable
        raise InvalidTimezone(f"{name!r} is not an IANA time zone name.") from exc


def resolve(when: datetime, tz_name: str) -> datetime:
    """The UTC instant ``when`` means in zone ``tz_name``."""
    tz = zone(tz_name)
    if when.tzinfo is not None:
        return when.astimezone(UTC)
    instant = when.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != when:
        before, after = _gap_edges(when, tz)
        raise NonexistentLocalTime(
            f"{when.isoformat()} does not exist in {tz_name}: the clocks jump from "
            f"{before.isoformat(timespec='minutes')} to {after.isoformat(timespec='minutes')}. "
            "Pick a time before or after the gap."
        )
    return instant


def wall_time(instant: datetime, tz_name: str) -> datetime:
    """The wall time (naive) ``instant`` shows in zone ``tz_name``."""
    return _wall(instant, zone(tz_name))


def _gap_edges(when: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The last wall minute before the gap ``when`` falls in, and the first one after it.

    The wall time read with the offset before the change and with the one after gives two
    instants; the change happens between them, on a whole minute."""
    first, second = sorted(when.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))
    change = first
    while change.astimezone(tz).utcoffset() == first.astimezone(tz).utcoffset():
        change += timedelta(minutes=1)
    assert change <= second, "a nonexistent wall time lies in a gap"
    return _wall(change - timedelta(minutes=1), tz), _wall(change, tz)


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def check_window(instant: datetime, now: datetime, *, max_days: int) -> None:
    if instant < now - timedelta(seconds=5):  # a little slack for "now" sent by a client
        raise ScheduledInPast(f"{instant.isoformat()} has passed (it is {now.isoformat()}).")
    if instant > now + timedelta(days=max_days):
        raise ScheduledTooFar(f"Posts can be scheduled at most {max_days} days ahead.")
