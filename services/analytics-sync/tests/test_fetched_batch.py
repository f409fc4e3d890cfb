"""The ingester's reading of ``metrics.fetched`` (``FetchedBatch``) against the contract."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import msgspec
import pytest

from analytics.ingest.batch import POST_RECORD, FetchedBatch, PostRow
from socialseed.contracts import FetchedPostFailure, FetchedPostMetrics, MetricsFetched


def test_the_batch_reads_the_contracts_fields_and_sql_reads_its_posts() -> None:
    envelope = set(FetchedBatch.model_fields) - {"body"}
    assert envelope == set(MetricsFetched.model_fields) - {"posts"}
    # Every field of a post is read into a column, but its platform id (not stored).
    record = {column.split()[0] for column in POST_RECORD.split(", ")}
    assert record == set(FetchedPostMetrics.model_fields) - {"platform_post_id"}


def test_the_envelope_is_validated_and_the_posts_stay_in_the_body() -> None:
    post = uuid.uuid4()
    event = MetricsFetched(
        account_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        platform="x",
        fetched_at=datetime(2026, 12, 2, 10, tzinfo=UTC),
        posts=[FetchedPostMetrics(tracked_post_id=post, platform_post_id="1", views=3, raw={})],
        failures=[
            FetchedPostFailure(
                tracked_post_id=uuid.uuid4(), platform_post_id="2", gap="deleted", message="gone"
            )
        ],
    )
    body = event.model_dump_json().encode()
    batch = FetchedBatch.from_json(body)
    assert (batch.account_id, batch.fetched_at, batch.failures) == (
        event.account_id,
        event.fetched_at,
        event.failures,
    )
    assert batch.body == body.decode()
    assert "body" not in batch.model_dump()


def test_the_posts_decode_into_the_same_columns_with_the_payload_as_it_came() -> None:
    """The ``COPY`` path reads the posts in Python (``PostRow``): the same columns, in the
    same order, as the statement's ``jsonb_to_recordset``; the raw payload is the body's own
    bytes, not parsed and encoded again."""
    record = [column.split()[0] for column in POST_RECORD.split(", ")]
    assert list(PostRow.__struct_fields__) == record
    post = uuid.uuid4()
    event = MetricsFetched(
        account_id=uuid.uuid4(),
        workspace_id=uuid.uuid4(),
        platform="x",
        fetched_at=datetime(2026, 12, 2, 10, tzinfo=UTC),
        posts=[
            FetchedPostMetrics(
                tracked_post_id=post,
                platform_post_id="1",
                views=3,
                watch_time_s=1.5,
                raw={"a": [1, {"b": None}]},
            )
        ],
    )
    (row,) = FetchedBatch.of(event).posts()
    assert (row.tracked_post_id, row.views, row.likes, row.watch_time_s) == (
        str(post),
        3,
        None,
        1.5,
    )
    assert bytes(row.raw) == b'{"a":[1,{"b":null}]}'
    body = json.loads(event.model_dump_json())
    body["posts"][0]["views"] = "many"
    with pytest.raises(msgspec.ValidationError):
        FetchedBatch.from_json(json.dumps(body).encode()).posts()
