"""When a post is due: instants and wall times in IANA zones, the gaps and repeats of DST (the
tz database's rules after 2037 included), the window a schedule must fall in, and the instant
``due_instant`` hands the rest of the publisher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from publisher.posts.schedule import (
    InvalidTimezone,
    NonexistentLocalTime,
    ScheduledInPast,
    ScheduledTooFar,
    check_window,
    resolve,
    wall_time,
)
from publisher.posts.validation import due_instant

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("wall", "zone", "instant"),
    [
        (datetime(2027, 1, 15, 9, 0), "America/New_York", utc(2027, 1, 15, 14, 0)),  # EST
        (datetime(2027, 7, 15, 9, 0), "America/New_York", utc(2027, 7, 15, 13, 0)),  # EDT
        (datetime(2027, 7, 15, 9, 0), "Asia/Kolkata", utc(2027, 7, 15, 3, 30)),
        (datetime(2027, 7, 15, 9, 0), "Asia/Kathmandu", utc(2027, 7, 15, 3, 15)),
        (datetime(2027, 7, 15, 9, 0), "UTC", utc(2027, 7, 15, 9, 0)),
    ],
)
def test_a_wall_time_is_read_in_its_zone(wall: datetime, zone: str, instant: datetime) -> None:
    assert resolve(wall, zone) == instant
    assert wall_time(instant, zone) == wall


def test_an_offset_makes_it_an_instant_whatever_the_zone() -> None:
    at = datetime(2027, 10, 31, 2, 30, tzinfo=timezone(timedelta(hours=1)))
    assert resolve(at, "Europe/Paris") == utc(2027, 10, 31, 1, 30)
    assert resolve(at, "Asia/Tokyo") == utc(2027, 10, 31, 1, 30)
    assert resolve(at, "Europe/Paris").tzinfo is UTC


@pytest.mark.parametrize(
    ("wall", "zone", "before", "after"),
    [
        # spring forward: an hour skipped
        (datetime(2027, 3, 28, 2, 30), "Europe/Paris", "2027-03-28T01:59", "2027-03-28T03:00"),
        (datetime(2027, 3, 28, 2, 0), "Europe/Paris", "2027-03-28T01:59", "2027-03-28T03:00"),
        (datetime(2027, 3, 14, 2, 59), "America/New_York", "2027-03-14T01:59", "2027-03-14T03:00"),
        # half an hour skipped
        (datetime(2027, 10, 3, 2, 15), "Australia/Lord_Howe", "2027-10-03T01:59",
         "2027-10-03T02:30"),
        # a whole day skipped: Samoa crossed the date line
        (datetime(2011, 12, 30, 12, 0), "Pacific/Apia", "2011-12-29T23:59",
         "2011-12-31T00:00"),
        # after 2037 the zone's rule, not a listed transition, makes the gap
        (datetime(2199, 3, 31, 2, 30), "Europe/Paris", "2199-03-31T01:59", "2199-03-31T03:00"),
    ],
)  # fmt: skip
def test_a_wall_time_the_clocks_skip_is_refused_naming_the_gap(
    wall: datetime, zone: str, before: str, after: str
) -> None:
    with pytest.raises(NonexistentLocalTime) as refused:
        resolve(wall, zone)
    assert f"the clocks jump from {before} to {after}" in refused.value.detail
    # the minutes on each side of the gap exist
    for edge in (before, after):
        assert wall_time(resolve(datetime.fromisoformat(edge), zone), zone) == (
            datetime.fromisoformat(edge)
        )


@pytest.mark.parametrize(
    ("wall", "zone", "earlier", "repeat"),
    [
        (datetime(2027, 10, 31, 2, 30), "Europe/Paris", utc(2027, 10, 31, 0, 30), 60),  # CEST
        (datetime(2027, 11, 7, 1, 30), "America/New_York", utc(2027, 11, 7, 5, 30), 60),  # EDT
        (datetime(2027, 4, 4, 1, 45), "Australia/Lord_Howe", utc(2027, 4, 3, 14, 45), 30),
        (datetime(2199, 10, 27, 2, 30), "Europe/Paris", utc(2199, 10, 27, 0, 30), 60),
    ],
)
def test_a_wall_time_the_clocks_repeat_is_the_earlier_instant(
    wall: datetime, zone: str, earlier: datetime, repeat: int
) -> None:
    later = earlier + timedelta(minutes=repeat)
    assert wall_time(earlier, zone) == wall_time(later, zone) == wall  # both show it
    assert resolve(wall, zone) == earlier
    # the later one is asked for with its offset
    offset = wall - later.replace(tzinfo=None)
    assert resolve(wall.replace(tzinfo=timezone(offset)), zone) == later


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus",
        "",
        "europe/paris",
        "Europe/Paris ",
        "../../etc/passwd",
        "EST5EDT,M3",
        # files of the system's zone folder that load but name no zone (leap-second and POSIX
        # variants): only the listed names are taken
        "right/UTC",
        "posix/Europe/Paris",
        "posixrules",
    ],
)
def test_an_unknown_zone_is_refused(name: str) -> None:
    with pytest.raises(InvalidTimezone):
        resolve(datetime(2027, 1, 1, 9), name)
    with pytest.raises(InvalidTimezone):
        due_instant(None, name, NOW, max_days=365)  # even when no time is given


def test_the_window_a_schedule_falls_in() -> None:
    check_window(NOW - timedelta(seconds=5), NOW, max_days=365)  # a client's "now", a bit late
    with pytest.raises(ScheduledInPast):
        check_window(NOW - timedelta(seconds=6), NOW, max_days=365)
    check_window(NOW + timedelta(days=365), NOW, max_days=365)
    with pytest.raises(ScheduledTooFar, match="at most 365 days ahead"):
        check_window(NOW + timedelta(days=365, seconds=1), NOW, max_days=365)
    with pytest.raises(ScheduledTooFar, match="at most 7 days"):
        check_window(NOW + timedelta(days=8), NOW, max_days=7)


@pytest.mark.parametrize(
    ("wall", "zone", "error"),
    [
        # the ends of the instants a client may send, read in zones far from UTC
        (datetime(2199, 12, 31, 23, 59), "Etc/GMT+12", ScheduledTooFar),  # 2200-01-01T11:59Z
        (datetime(2199, 12, 31, 23, 59), "Pacific/Kiritimati", ScheduledTooFar),
        (datetime(1970, 1, 1, 0, 0), "Pacific/Kiritimati", ScheduledInPast),
        (datetime(1970, 1, 1, 0, 0), "Etc/GMT-14", ScheduledInPast),  # 1969-12-31T10:00Z
    ],
)
def test_far_instants_are_named_not_overflowed(
    wall: datetime, zone: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        due_instant(wall, zone, NOW, max_days=365)


def test_due_instant() -> None:
    assert due_instant(None, "Europe/Paris", NOW, max_days=365) == NOW  # publish now
    assert due_instant(datetime(2027, 3, 1, 9), "Europe/Paris", NOW, max_days=365) == utc(
        2027, 3, 1, 8
    )
    with pytest.raises(NonexistentLocalTime):
        due_instant(datetime(2027, 3, 28, 2, 30), "Europe/Paris", NOW, max_days=365)
    with pytest.raises(ScheduledInPast):
        due_instant(datetime(2027, 1, 10, 9), "Asia/Tokyo", NOW, max_days=365)  # 00:00Z
    # the same wall time is still ahead in a zone west of it
    assert due_instant(datetime(2027, 1, 10, 9), "Pacific/Honolulu", NOW, max_days=365) == utc(
        2027, 1, 10, 19
    )
