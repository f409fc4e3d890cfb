"""``metrics.fetched`` as the ingester reads it.

A batch carries up to a hundred posts, each with the platform's raw payload. Validating them
into Python objects, then taking them apart again into columns for PostgreSQL, cost the
ingester more than the database's own work; so the ingester validates the envelope (ids,
time, failures, account counters: a few fields) and leaves the posts in the JSON body, which
the repository decodes with msgspec into ``PostRow``s for a binary ``COPY`` (or, on its
statement path, PostgreSQL reads with ``jsonb_to_recordset`` into typed columns,
``POST_RECORD``). A post that does not fit them (a string where a number goes, no
``tracked_post_id``) sends the batch to the statement, which fails on it like a validation
error would: the batch is retried event by event and the bad event goes to the dead-letter
topic. The contract (``socialseed.contracts.MetricsFetched``) is unchanged:
this is one consumer's way of reading it, and a test holds the two to the same fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

import msgspec
from pydantic import ConfigDict, Field

from analytics.models import FLOAT_METRICS, sql_type
from socialseed.contracts import (
    Event,
    FetchedAccountMetrics,
    FetchedPostFailure,
    MetricsFetched,
)
from socialseed.platforms.base import POST_METRICS

#: How ``jsonb_to_recordset`` reads one post of the body (``platform_post_id`` is not stored).
POST_RECORD = ", ".join(
    [
        "tracked_post_id uuid",
        *(f"{m} {sql_type(m)}" for m in POST_METRICS),
        "raw jsonb",
    ]
)


#: One post of the body as the ingester's ``COPY`` reads it: the columns, typed (a string for a
#: count fails the decoding as it would fail ``jsonb_to_recordset``), and the platform's
#: payload as the bytes it came as (``msgspec.Raw``: not parsed into objects, not encoded
#: again; PostgreSQL parses it once, into ``jsonb``). The post's id stays a string (building
#: a ``uuid.UUID`` per post cost more than the rest of the decoding): PostgreSQL reads it as
#: a ``uuid`` and refuses one that is not. Unknown fields (``platform_post_id``) are skipped.
PostRow: Any = msgspec.defstruct(
    "PostRow",
    [
        ("tracked_post_id", str),
        *((m, (float if m in FLOAT_METRICS else int) | None, None) for m in POST_METRICS),
        ("raw", msgspec.Raw, msgspec.Raw(b"null")),
    ],
    array_like=False,
)
_Posts: Any = msgspec.defstruct("_Posts", [("posts", list[PostRow], [])])
_POSTS = msgspec.json.Decoder(_Posts)


class FetchedBatch(Event):
    """The envelope of a ``metrics.fetched`` event, and its body for PostgreSQL to read the
    posts from."""

    # The posts are skipped by the parser, not built: they are read from ``body``.
    model_config = ConfigDict(frozen=True, extra="ignore")
    topic = MetricsFetched.topic

    account_id: uuid.UUID
    workspace_id: uuid.UUID
    platform: str
    fetched_at: datetime
    sync_id: uuid.UUID | None = None
    failures: list[FetchedPostFailure] = Field(default_factory=list)
    account: FetchedAccountMetrics | None = None
    body: str = Field(default="{}", exclude=True)

    @classmethod
    def from_json(cls, body: bytes) -> Self:
        envelope = cls.model_validate_json(body, extra="ignore")
        return envelope.model_copy(update={"body": body.decode()})

    @property
    def owner(self) -> tuple[uuid.UUID, uuid.UUID]:
        """The account and workspace the batch names."""
        return self.account_id, self.workspace_id

    def posts(self) -> list[Any]:
        """The posts of the body (``PostRow``s); raises ``msgspec.ValidationError`` for a post
        that does not fit the columns."""
        return list(_POSTS.decode(self.body).posts)

    @classmethod
    def of(cls, event: MetricsFetched) -> Self:
        """The batch as the ingester would read ``event`` off the topic."""
        return cls.from_json(event.model_dump_json().encode())
