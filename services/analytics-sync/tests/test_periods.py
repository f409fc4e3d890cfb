"""Periods and local-time buckets (``analytics.queries.periods``): the asked period's defaults
and bounds, and day, week and hour buckets in a workspace's zone across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics.queries.periods import (
    Interval,
    InvalidPeriod,
    Period,
    TooManyBuckets,
    buckets,
    resolve,
    zone,
)

NOW = datetime(2027, 3, 10, 14, 25, 7, tzinfo=UTC)
PARIS = zone("Europe/Paris")


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


def test_a_missing_end_is_the_next_whole_hour_and_a_missing_start_the_default_before() -> None:
    p = resolve(None, None, now=NOW, default=timedelta(days=28))
    assert p == Period(utc(2027, 2, 10, 15), utc(2027, 3, 10, 15))
    # the same answer all hour long (and so the same ETag)
    assert resolve(None, None, now=NOW + timedelta(minutes=34), default=timedelta(days=28)) == p
    assert p.previous() == Period(utc(2027, 1, 13, 15), utc(2027, 2, 10, 15))


def test_a_naive_bound_is_utc_and_an_offset_is_applied() -> None:
    start = datetime(2027, 3, 1, 1, 0, tzinfo=PARIS)  # 00:00Z
    p = resolve(start, datetime(2027, 3, 2), now=NOW, default=timedelta(days=1))
    assert p == Period(utc(2027, 3, 1), utc(2027, 3, 2))
    assert p.start.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (utc(2027, 3, 2), utc(2027, 3, 1)),  # backwards
        (utc(2027, 3, 1), utc(2027, 3, 1)),  # empty
        (utc(1969, 12, 31), utc(1970, 1, 2)),  # before 1970
        (utc(2099, 12, 31), utc(2100, 1, 1, 0, 0, 1)),  # after 2100
        (None, utc(1970, 1, 2)),  # the default start falls before 1970
        (datetime.min, None),  # naive extremes
        (None, datetime(1, 1, 2)),  # its default start would be before year 1
        (datetime.max - timedelta(days=1), datetime.max),
    ],
)
def test_a_period_outside_1970_to_2100_or_backwards_is_invalid(
    start: datetime | None, end: datetime | None
) -> None:
    with pytest.raises(InvalidPeriod):
        resolve(start, end, now=NOW, default=timedelta(days=28))


def test_the_widest_period_is_accepted() -> None:
    p = resolve(utc(1970, 1, 1), utc(2100, 1, 1), now=NOW, default=timedelta(days=1))
    assert p.length == utc(2100, 1, 1) - utc(1970, 1, 1)


@pytest.mark.parametrize(("day", "hours"), [(28, 23), (29, 24)])
def test_a_local_day_is_midnight_to_midnight_23_hours_when_the_clocks_skip_one(
    day: int, hours: int
) -> None:
    p = Period(utc(2027, 3, day - 1, 23), utc(2027, 3, day, 21))  # one Paris day
    [start, end] = buckets(p, Interval.DAY, PARIS, limit=10)
    assert start.astimezone(PARIS).hour == end.astimezone(PARIS).hour == 0
    assert end - start == timedelta(hours=hours)


def test_the_autumn_day_is_25_hours_and_its_hours_are_25_buckets() -> None:
    p = Period(utc(2027, 10, 30, 22), utc(2027, 10, 31, 23))  # Paris, 31 October
    assert [b.astimezone(PARIS).date().day for b in buckets(p, Interval.DAY, PARIS, limit=9)] == [
        31,
        1,
    ]
    hours = buckets(p, Interval.HOUR, PARIS, limit=100)
    assert len(hours) == 26  # 25 buckets
    walls = [b.astimezone(PARIS).strftime("%H%z") for b in hours[:5]]
    assert walls == ["00+0200", "01+0200", "02+0200", "02+0100", "03+0100"]  # 02:00 twice


def test_the_skipped_spring_hour_is_no_bucket() -> None:
    p = Period(utc(2027, 3, 27, 23), utc(2027, 3, 28, 22))  # Paris, 28 March
    hours = buckets(p, Interval.HOUR, PARIS, limit=100)
    assert len(hours) == 24  # 23 buckets
    walls = [b.astimezone(PARIS).hour for b in hours[:4]]
    assert walls == [0, 1, 3, 4]


def test_buckets_start_at_the_start_of_the_local_unit() -> None:
    p = Period(utc(2027, 3, 10, 14, 25), utc(2027, 3, 24, 9))  # a Wednesday afternoon
    weeks = buckets(p, Interval.WEEK, PARIS, limit=10)
    assert [w.astimezone(PARIS).strftime("%a %d %H:%M") for w in weeks] == [
        "Mon 08 00:00",
        "Mon 15 00:00",
        "Mon 22 00:00",
        "Mon 29 00:00",  # at or after the end, across the spring change
    ]
    assert weeks[-1] - weeks[-2] == timedelta(days=7, hours=-1)
    kolkata = buckets(p, Interval.HOUR, zone("Asia/Kolkata"), limit=1000)
    assert kolkata[0] == utc(2027, 3, 10, 13, 30)  # 19:00 IST, the hour 14:25Z falls in
    assert kolkata[-1] >= p.end > kolkata[-2]


@pytest.mark.parametrize(
    ("interval", "days", "limit"),
    [(Interval.HOUR, 2, 48), (Interval.DAY, 10, 10), (Interval.WEEK, 70, 10)],
)
def test_too_many_buckets_is_named_just_past_the_limit(
    interval: Interval, days: int, limit: int
) -> None:
    start = utc(2027, 1, 4)  # a Monday, midnight UTC
    exact = Period(start, start + timedelta(days=days))
    assert len(buckets(exact, interval, zone("UTC"), limit=limit)) == limit + 1
    with pytest.raises(TooManyBuckets):
        buckets(Period(start, exact.end + timedelta(seconds=1)), interval, zone("UTC"), limit=limit)


@pytest.mark.parametrize("name", [None, "", "Mars/Olympus", "../etc/passwd"])
def test_an_unknown_workspace_zone_reads_as_utc(name: str | None) -> None:
    assert zone(name).key == "UTC"
