"""The domain layer's repository base and its cursor pagination.

A repository is built with the session (``PostRepository(session)``) and holds every query of
one domain. The base gives what each of them needs and none should rewrite: reading one row or
several from a statement (``one_or_none``, ``one``, ``all``), a row lock (``lock=True``: ``FOR
UPDATE``), ``add``/``add_all`` (flushed, so ids and server defaults are there), keyset pages
with an opaque cursor (``page``), and by-id reads. ``RepositoryBase`` is the session and
``add`` alone, for repositories of no one model.

**Tenant scoping in one place.** A repository whose rows a caller reads builds "the rows this
principal may read" in one method, ``readable(principal)`` (a ``Select``); every read on behalf
of a caller starts from it, so a forgotten filter cannot show another workspace's row. The
by-id read without it is ``get_unscoped``, named so that a grep shows every use (internal
endpoints, workers, consumers). ``WorkspaceScoped`` is that method for the usual case, rows
with a ``workspace_id``: readable when the caller has a role in the workspace. A role check
(viewer, editor, admin) is a second, explicit step in the service.

**Cursors.** A cursor is the sort keys of the last row of a page and a scope tag (which list,
which order), as base64url JSON: ``["<scope>", key, ...]``. It is opaque to clients and
decoded strictly: the scope must match and every key must be of its declared type (a
time-zone aware instant within ``socialseed.inputs``' bounds, a UUID, or a finite number
within bigint's range), else ``400 InvalidCursor``; no value a client makes up reaches SQL
as something the column cannot compare with.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, and_, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from socialseed.errors import InvalidCursor, NotFound
from socialseed.inputs import bounded_instant
from socialseed.security import Principal

M = TypeVar("M")
T = TypeVar("T")


# Cursors ------------------------------------------------------------------------------------


class Number:
    """A cursor key's type: a finite number within bigint's range (JSON gives ``1e400`` as
    inf and ``10**30`` as an int beyond bigint, which no sort column compares with)."""


#: What a cursor key may be declared as.
KeyType = type[datetime] | type[uuid.UUID] | type[Number]

_BIGINT = 2**63


def encode_cursor(scope: str, *keys: object) -> str:
    """The cursor after a row whose sort keys are ``keys`` in the list named ``scope``."""
    values = [
        k.isoformat() if isinstance(k, datetime) else str(k) if isinstance(k, uuid.UUID) else k
        for k in keys
    ]
    raw = json.dumps([scope, *values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, scope: str, *types: KeyType) -> tuple[Any, ...]:
    """The sort keys of ``cursor`` as ``types`` say, or ``InvalidCursor`` (not one of ours,
    another list's or order's, a key of the wrong type or out of its range)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
        if not isinstance(decoded, list) or len(decoded) != len(types) + 1:
            raise InvalidCursor()
        tag, *values = decoded
        if tag != scope:
            raise InvalidCursor()
        return tuple(_key(value, kind) for value, kind in zip(values, types, strict=True))
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidCursor() from exc


def _key(value: Any, kind: KeyType) -> Any:
    if kind is datetime:
        if not isinstance(value, str):
            raise InvalidCursor()
        at = bounded_instant(datetime.fromisoformat(value))
        if at.tzinfo is None:
            raise InvalidCursor()
        return at
    if kind is uuid.UUID:
        if not isinstance(value, str):
            raise InvalidCursor()
        return uuid.UUID(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCursor()
    if not (math.isfinite(value) and -_BIGINT <= value < _BIGINT):
        raise InvalidCursor()
    return value


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_of(
    rows: Sequence[T], limit: int, scope: str, keys: Callable[[T], Sequence[object]]
) -> Page[T]:
    """The first ``limit`` of ``rows`` (read with ``limit + 1``: one more says there is a next
    page) and the cursor after the last of them."""
    items = list(rows[:limit])
    more = len(rows) > limit and bool(items)
    return Page(items, encode_cursor(scope, *keys(items[-1])) if more else None)


def keyset_after(
    columns: Sequence[Any], after: Sequence[object], *, descending: bool = False
) -> Any:
    """The rows after ``after`` in the order of ``columns`` (all ascending, or all
    descending): a lexicographic comparison, written out so it suits any index order."""
    terms = []
    for i, column in enumerate(columns):
        past = column < after[i] if descending else column > after[i]
        terms.append(and_(*(c == a for c, a in zip(columns[:i], after[:i], strict=True)), past))
    return or_(*terms)


# Repositories -------------------------------------------------------------------------------


class RepositoryBase:
    """Built with the session; ``add``/``add_all`` flush (ids and server defaults are there
    after). Repositories of no one model (housekeeping, ingestion) start here."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, obj: T) -> T:
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def add_all(self, objs: Iterable[object]) -> None:
        self.session.add_all(objs)
        await self.session.flush()


class Repository(RepositoryBase, Generic[M]):
    """The base of a repository of one model: ``model`` is the mapped class its by-id reads
    and ``statement()`` are about, ``not_found`` the error ``one`` raises."""

    model: ClassVar[type[Any]]
    not_found: ClassVar[type[NotFound]] = NotFound

    def statement(self) -> Select[M]:
        return select(self.model)

    async def one_or_none(self, statement: Select[T], *, lock: bool = False) -> T | None:
        if lock:
            statement = statement.with_for_update()
        result = await self.session.execute(statement)
        row: T | None = result.unique().scalar_one_or_none()
        return row

    async def one(self, statement: Select[T], *, lock: bool = False) -> T:
        row = await self.one_or_none(statement, lock=lock)
        if row is None:
            raise self.not_found()
        return row

    async def all(self, statement: Select[T]) -> list[T]:
        return list((await self.session.execute(statement)).unique().scalars())

    def _by_id(self, statement: Select[M], id: object) -> Select[M]:
        [key] = inspect(self.model).primary_key
        return statement.where(key == id)

    async def get_unscoped(self, id: object, *, lock: bool = False) -> M | None:
        """The row with this id in any workspace: for internal endpoints, workers and
        consumers only (a caller's read goes through ``readable``)."""
        return await self.one_or_none(self._by_id(self.statement(), id), lock=lock)

    async def page(
        self,
        statement: Select[M],
        *,
        order: Sequence[InstrumentedAttribute[Any]],
        scope: str,
        types: Sequence[KeyType],
        cursor: str | None,
        limit: int,
        descending: bool = False,
    ) -> Page[M]:
        """One keyset page of ``statement`` ordered by ``order`` (its last column unique, so
        the order is total) after ``cursor``; the cursor names ``scope``."""
        if cursor is not None:
            after = decode_cursor(cursor, scope, *types)
            statement = statement.where(keyset_after(order, after, descending=descending))
        ordered = [c.desc() if descending else c.asc() for c in order]
        rows = await self.all(statement.order_by(*ordered).limit(limit + 1))
        return page_of(rows, limit, scope, lambda row: [getattr(row, c.key) for c in order])


def of_workspaces(statement: Select[T], model: Any, principal: Principal) -> Select[T]:
    """``statement`` restricted to the rows of ``model`` in the workspaces ``principal`` has a
    role in (``WorkspaceScoped.readable``, and a repository's second model)."""
    return statement.where(model.workspace_id.in_(list(principal.roles)))


class WorkspaceScoped(Repository[M]):
    """A repository of rows that belong to a workspace (``model.workspace_id``): a caller
    reads the rows of the workspaces they have a role in."""

    def readable(self, principal: Principal) -> Select[M]:
        """The rows ``principal`` may read: those of their workspaces."""
        return of_workspaces(self.statement(), self.model, principal)

    async def get_or_none(
        self, principal: Principal, id: object, *, lock: bool = False
    ) -> M | None:
        return await self.one_or_none(self._by_id(self.readable(principal), id), lock=lock)

    async def get(self, principal: Principal, id: object, *, lock: bool = False) -> M:
        """The row, or the repository's ``not_found`` (another workspace's row looks like
        none at all)."""
        return await self.one(self._by_id(self.readable(principal), id), lock=lock)
