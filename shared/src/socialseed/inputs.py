"""Bounded types for what clients send: every instant an API takes is an :data:`Instant`.

Python's ``datetime`` takes years 1 to 9999 and PostgreSQL's ``timestamptz`` 4713 BC to
294276 AD, but an instant near either end breaks on the way: ``9999-12-31T23:59:59-12:00``
overflows when converted to UTC, ``0001-01-01T00:00:00+14:00`` too, or reaches asyncpg and
fails there. Nothing this system schedules, lists or reports lies outside 1970..2200, so an
instant outside that range is refused where it is parsed, by the type, with a named 400
(``InstantOutOfRange``, see ``socialseed.errors``) instead of a 500 somewhere deeper.

An aware instant is bounded as the instant it is (its offset applied), a naive one (a wall
time, read in some zone later) on its wall fields: both stay convertible to any zone and to UTC.
Values are passed on as given (an offset is kept).

Only RFC 3339 text is an instant here. Pydantic would also read a number (``1700000000``, or
the string ``"15874"`` of a query parameter) as Unix seconds; the OpenAPI schema says
``date-time``, clients that send a number most likely mean something else, so a number is a
422 (``instant_not_a_number``) rather than a guess.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from socialseed.errors import INSTANT_OUT_OF_RANGE

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive
RANGE_TEXT = f"{EARLIEST:%Y-%m-%dT%H:%M:%SZ} (inclusive) to {LATEST:%Y-%m-%dT%H:%M:%SZ} (exclusive)"


def bounded_instant(value: datetime) -> datetime:
    """``value`` if it lies in the range; a ``ValueError`` (a pydantic error of type
    ``instant_out_of_range``) if not."""
    if value.tzinfo is None or value.utcoffset() is None:
        inside = EARLIEST.replace(tzinfo=None) <= value < LATEST.replace(tzinfo=None)
    else:
        try:
            inside = EARLIEST <= value.astimezone(UTC) < LATEST
        except OverflowError:  # out of datetime's own range once the offset is applied
            inside = False
    if not inside:
        raise PydanticCustomError(
            INSTANT_OUT_OF_RANGE, "Instants are accepted from {range}.", {"range": RANGE_TEXT}
        )
    return value


def no_number(value: object) -> object:
    """``value`` unless it is a number or the text of one (see the module's text)."""
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        raise PydanticCustomError(
            "instant_not_a_number",
            "Instants are RFC 3339 date-times (2026-12-07T09:00:00Z), not numbers.",
        )
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


#: A ``datetime`` a client sends, bounded to 1970..2200 (see the module's text).
Instant = Annotated[datetime, BeforeValidator(no_number), AfterValidator(bounded_instant)]
