"""The analytics read API (``/api/v1/analytics/...``). Every route reads the caller's own
workspaces only (viewers and up; another workspace's ids answer 404), answers with an
``ETag`` and ``Cache-Control: private``, and ``If-None-Match`` with a current ETag is a 304
before any query runs. Read-only: the caller's membership and the reads share one connection
outside any transaction (``ReadPrincipal``, ``ReadSession``)."""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal, TypeVar

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic_core import to_json

from analytics.deps import Ctx
from analytics.queries import caching, formulas, service
from analytics.queries.periods import Interval, InvalidPeriod, TooManyBuckets
from analytics.queries.reads import ReadsDep
from analytics.queries.repository import (
    EXPORT_COLUMNS,
    POST_SORTS,
    PostFilter,
    export_query,
    stream_export,
)
from analytics.queries.schemas import (
    AccountMetricsOut,
    BestTimesOut,
    CompareOut,
    DashboardOut,
    PostDetailOut,
    PostPageOut,
    PostTimeseriesOut,
    TimeseriesOut,
)
from analytics.queries.service import COMPARE_METRICS
from analytics.reports import content as report_content
from analytics.reports import csv as report_csv
from analytics.reports import pdf as report_pdf
from socialseed.errors import AccountNotFound, InvalidCursor, PostNotFound, WorkspaceNotFound
from socialseed.inputs import Instant
from socialseed.openapi import errors
from socialseed.platforms import Platform
from socialseed.platforms.base import ACCOUNT_METRICS, POST_METRICS
from socialseed.spreadsheets import csv_rows

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

AccountMetric = enum.StrEnum("AccountMetric", {m: m for m in ACCOUNT_METRICS})  # type: ignore[misc]
PostSort = enum.StrEnum("PostSort", {s: s for s in POST_SORTS})  # type: ignore[misc]

UUID_RE = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
MAX_COMPARE = 20
ACCOUNT_IDS_PATTERN = f"^{UUID_RE}(,{UUID_RE}){{0,{MAX_COMPARE - 1}}}$"
_METRIC_RE = "|".join(COMPARE_METRICS)
METRICS_PATTERN = f"^({_METRIC_RE})(,({_METRIC_RE}))*$"

From = Annotated[
    Instant | None,
    Query(alias="from", description="Inclusive (default: `to` minus the default period)"),
]
To = Annotated[Instant | None, Query(description="Exclusive (default: the next whole UTC hour)")]
PERIOD_ERRORS = (InvalidPeriod,)
FORMULAS = f"\n\n{formulas.FORMULAS_DOC}"
F = TypeVar("F", bound=Callable[..., Any])


def with_formulas(endpoint: F) -> F:
    """Appends the formulas to the route's description (applied before ``router.get``)."""
    endpoint.__doc__ = (endpoint.__doc__ or "") + FORMULAS
    return endpoint


def _ids(value: str) -> list[uuid.UUID]:
    # The pattern only lets UUIDs through; duplicates are asked once.
    return list(dict.fromkeys(uuid.UUID(v) for v in value.split(",")))


def _responses(*classes: type[Any]) -> dict[int | str, dict[str, Any]]:
    return {**errors(*classes), **caching.NOT_MODIFIED_DOC}


@router.get(
    "/accounts/{account_id:uuid}/metrics",
    response_model=AccountMetricsOut,
    responses=_responses(AccountNotFound, *PERIOD_ERRORS),
)
@with_formulas
async def account_metrics(
    account_id: uuid.UUID, reads: ReadsDep, start: From = None, to: To = None
) -> Response:
    """An account's totals for the period against the previous period of the same length:
    its counters (as of `to` against as of `from`) and the posts it published in the period
    (their latest values summed)."""
    period = reads.period(start, to)
    return await reads.account_answer(
        account_id,
        period,
        {},
        lambda account: service.account_metrics(reads.repo, account, period),
    )


@router.get(
    "/accounts/{account_id:uuid}/timeseries",
    response_model=TimeseriesOut,
    responses=_responses(AccountNotFound, TooManyBuckets, *PERIOD_ERRORS),
)
async def account_timeseries(
    account_id: uuid.UUID,
    reads: ReadsDep,
    metric: AccountMetric = AccountMetric["followers"],
    interval: Interval = Interval.DAY,
    start: From = None,
    to: To = None,
) -> Response:
    """One account counter over time, one bucket per local hour, day or week of the
    workspace's time zone (a day bucket is a local day: 23 or 25 hours across a DST change;
    hour buckets are real hours, never doubled or skipped). Each bucket holds the last value
    fetched in it; a bucket without a fetch is null, not 0. Read from the raw snapshots while
    they are kept, from the daily rollups (one value per UTC day) before."""
    period = reads.period(start, to)
    return await reads.owned_account_answer(
        account_id,
        period,
        {"metric": str(metric), "interval": str(interval)},
        lambda account: service.timeseries(
            reads.repo,
            account,
            str(metric),
            interval,
            period,
            max_buckets=reads.ctx.settings.timeseries_max_buckets,
        ),
    )


@router.get(
    "/accounts/{account_id:uuid}/posts",
    response_model=PostPageOut,
    responses=_responses(AccountNotFound, InvalidCursor),
)
@with_formulas
async def account_posts(
    account_id: uuid.UUID,
    reads: ReadsDep,
    sort: PostSort = PostSort["published_at"],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    """The account's posts with their latest metrics, largest `sort` first (newest for
    `published_at`; posts without the metric last), a page at a time (`next_cursor`)."""
    limit = min(limit, reads.ctx.settings.list_limit_max)
    return await reads.account_answer(
        account_id,
        None,
        {"sort": str(sort), "limit": limit, "cursor": cursor},
        lambda account: service.account_posts(reads.repo, account, str(sort), limit, cursor),
    )


@router.get(
    "/posts/{post_id:uuid}", response_model=PostDetailOut, responses=_responses(PostNotFound)
)
@with_formulas
async def post_detail(post_id: uuid.UUID, reads: ReadsDep) -> Response:
    """A post published through SocialSeed (the publisher's post id: every target), or one
    tracked post (its own id): per target the latest values, the history of its fetches and
    the derived numbers."""
    targets = await service.post_targets(reads.repo, reads.principal, post_id)
    return await reads.answer(
        sorted({t.workspace_id for t in targets}),
        None,
        {"post_id": post_id},
        lambda: service.post_detail(reads.repo, targets),
    )


class GrowthInterval(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"


_POST_METRIC_RE = "|".join(POST_METRICS)
POST_METRICS_PATTERN = f"^({_POST_METRIC_RE})(,({_POST_METRIC_RE}))*$"


@router.get(
    "/posts/{post_id:uuid}/timeseries",
    response_model=PostTimeseriesOut,
    responses=_responses(PostNotFound, TooManyBuckets, *PERIOD_ERRORS),
)
async def post_timeseries(
    post_id: uuid.UUID,
    reads: ReadsDep,
    metrics: Annotated[
        str,
        Query(
            pattern=POST_METRICS_PATTERN,
            max_length=200,
            description="Comma-separated: " + ", ".join(POST_METRICS),
        ),
    ] = ",".join(service.GROWTH_METRICS),
    interval: GrowthInterval = GrowthInterval.HOUR,
    start: From = None,
    to: To = None,
) -> Response:
    """A post's growth curve: how fast it gathered its views, likes and the rest, one series
    per account it went to (the publisher's post id), or one tracked post's (its own id).
    Buckets are local hours or days of the workspace's time zone; each holds the last value
    fetched in it (the running total then: platforms report lifetime counts), null when
    nothing was fetched in it. By default from the post's publishing, for 72 hours (`hour`)
    or 90 days (`day`) or until the next whole hour, whichever is sooner."""
    targets = await service.post_targets(reads.repo, reads.principal, post_id)
    asked = list(dict.fromkeys(metrics.split(",")))
    period = service.growth_period(targets, Interval(str(interval)), start, to, reads.ctx.clock())
    return await reads.answer(
        sorted({t.workspace_id for t in targets}),
        period,
        {"post_id": post_id, "metrics": asked, "interval": str(interval)},
        lambda: service.post_timeseries(
            reads.repo,
            targets,
            asked,
            Interval(str(interval)),
            period,
            max_buckets=reads.ctx.settings.timeseries_max_buckets,
        ),
    )


@router.get(
    "/insights/best-times",
    response_model=BestTimesOut,
    responses=_responses(WorkspaceNotFound, AccountNotFound, *PERIOD_ERRORS),
)
@with_formulas
async def best_times(
    workspace_id: uuid.UUID,
    reads: ReadsDep,
    account_id: uuid.UUID | None = None,
    platform: Platform | None = None,
    start: From = None,
    to: To = None,
) -> Response:
    """When the workspace's posts did best: per hour of the week (the workspace's time
    zone, by publication time) the median engagement rate of the posts published then and
    how many there were; by default the posts of the last 90 days. A slot with fewer posts
    than the minimum (`min_posts`) is marked `enough_data: false` and has no median."""
    reads.workspace(workspace_id)
    if account_id is not None:
        await reads.account(account_id, workspace_id=workspace_id)
    settings = reads.ctx.settings
    period = reads.period(start, to, settings.best_times_days)
    on = str(platform) if platform else None
    where = PostFilter(workspace_id, period, [account_id] if account_id else None, on)
    return await reads.answer(
        [workspace_id],
        period,
        {"workspace_id": workspace_id, "account_id": account_id, "platform": on},
        lambda: service.best_times(reads.repo, where, min_posts=settings.best_times_min_posts),
    )


@router.get(
    "/dashboard",
    response_model=DashboardOut,
    responses=_responses(WorkspaceNotFound, *PERIOD_ERRORS),
)
@with_formulas
async def dashboard(
    workspace_id: uuid.UUID, reads: ReadsDep, start: From = None, to: To = None
) -> Response:
    """The workspace at a glance for the period: per platform and per account the posts
    published and their summed latest metrics, each account's followers (as of `to` against
    as of `from`) and when it was last synced, and the posts with the most engagements."""
    reads.workspace(workspace_id)
    period = reads.period(start, to)
    top = reads.ctx.settings.top_posts
    return await reads.answer(
        [workspace_id],
        period,
        {"workspace_id": workspace_id},
        lambda: service.dashboard(reads.repo, reads.principal, workspace_id, period, top=top),
    )


@router.get(
    "/compare",
    response_model=CompareOut,
    responses=_responses(AccountNotFound, *PERIOD_ERRORS),
)
@with_formulas
async def compare(
    reads: ReadsDep,
    account_ids: Annotated[
        str,
        Query(
            pattern=ACCOUNT_IDS_PATTERN,
            max_length=MAX_COMPARE * 37,
            description=f"Comma-separated account ids (at most {MAX_COMPARE})",
        ),
    ],
    metrics: Annotated[
        str | None,
        Query(
            pattern=METRICS_PATTERN,
            max_length=1000,
            description="Comma-separated names (default: all): " + ", ".join(COMPARE_METRICS),
        ),
    ] = None,
    start: From = None,
    to: To = None,
) -> Response:
    """Accounts side by side (each as `/accounts/{id}/metrics` answers, restricted to
    `metrics`). Every id must be an account of one of your workspaces, else 404."""
    accounts = await reads.accounts(_ids(account_ids))
    period = reads.period(start, to)
    names = metrics.split(",") if metrics else list(COMPARE_METRICS)
    return await reads.answer(
        sorted({a.workspace_id for a in accounts}),
        period,
        {"account_ids": [a.id for a in accounts], "metrics": names},
        lambda: service.compare(reads.repo, accounts, period, names),
    )


EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/x-ndjson"}


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {
            "description": "The rows, streamed: CSV with a header line, or NDJSON (one JSON "
            "object per line, the same fields)",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
        **_responses(WorkspaceNotFound, AccountNotFound, *PERIOD_ERRORS),
    },
)
async def export(
    workspace_id: uuid.UUID,
    request: Request,
    reads: ReadsDep,
    format: Literal["csv", "json"] = "csv",
    account_ids: Annotated[
        str | None,
        Query(
            pattern=ACCOUNT_IDS_PATTERN,
            max_length=MAX_COMPARE * 37,
            description="Only these accounts (comma-separated, of this workspace)",
        ),
    ] = None,
    start: From = None,
    to: To = None,
) -> Response:
    """Every post snapshot of the workspace fetched in the period (raw while kept, one per
    post and UTC day before), one row each: `fetched_at`, the account and post, the standard
    metrics and `engagement_rate`. Streamed a chunk at a time from a server-side cursor, so
    memory stays flat whatever the size; `json` is NDJSON (`application/x-ndjson`, one
    object per line). Rows come in no particular order. In CSV, a text cell (a username, a
    post id) that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is written with
    a leading `'`, so that no spreadsheet runs it as a formula; numbers are written as
    numbers. NDJSON has the values as they are."""
    reads.workspace(workspace_id)
    ids = _ids(account_ids) if account_ids else None
    if ids:
        await reads.accounts(ids, workspace_id=workspace_id)
    period = reads.period(start, to)
    ctx = reads.ctx
    tag = await reads.etag(
        [workspace_id],
        period,
        {"workspace_id": workspace_id, "format": format, "account_ids": ids},
    )
    if caching.not_modified(request, tag):
        return caching.not_modified_response(tag, ctx.settings.cache_max_age)
    sql, params = export_query(workspace_id, period, ids, reads.repo.cutoff)
    name = f"analytics-{workspace_id}-{period.start:%Y%m%dT%H%M}-{period.end:%Y%m%dT%H%M}"
    extension = "csv" if format == "csv" else "ndjson"
    headers = {
        **caching.cache_headers(tag, ctx.settings.cache_max_age),
        "Content-Disposition": f'attachment; filename="{name}.{extension}"',
    }
    chunks = _export_chunks(ctx, sql, params, format)
    return StreamingResponse(chunks, media_type=EXPORT_FORMATS[format], headers=headers)


COLUMNS = (*EXPORT_COLUMNS, "engagement_rate")


async def _export_chunks(
    ctx: Ctx, sql: str, params: dict[str, Any], format: str
) -> AsyncIterator[bytes]:
    """The export's own connection (the request's session is committed before the body is
    sent), one encoded chunk per fetched batch of rows."""
    if format == "csv":
        yield (",".join(COLUMNS) + "\r\n").encode()
    async with ctx.db.engine.connect() as conn:
        async for rows in stream_export(conn, sql, params, ctx.settings.export_chunk):
            records = [_record(row._mapping) for row in rows]
            if format == "csv":
                # Usernames and post ids come from the platforms: one that starts like a
                # formula is written as text (socialseed.spreadsheets).
                yield csv_rows([r[c] for c in COLUMNS] for r in records).encode()
            else:
                yield b"".join(to_json(r) + b"\n" for r in records)


def _record(row: Any) -> dict[str, Any]:
    record = {c: row[c] for c in EXPORT_COLUMNS}
    record["engagement_rate"] = formulas.engagement_rate(row)
    for key in ("fetched_at", "published_at"):
        record[key] = record[key].isoformat()
    for key in ("account_id", "tracked_post_id", "publisher_post_id"):
        record[key] = str(record[key]) if record[key] is not None else None
    return record


REPORT_FORMATS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}
REPORT_CHUNK = 64 * 1024


@router.get(
    "/report",
    response_class=Response,
    responses={
        200: {
            "description": "The report: a PDF document, or CSV with a header line",
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **errors(WorkspaceNotFound, TooManyBuckets, *PERIOD_ERRORS),
    },
)
@with_formulas
async def report(
    workspace_id: uuid.UUID,
    reads: ReadsDep,
    format: Literal["pdf", "csv"] = "pdf",
    start: From = None,
    to: To = None,
) -> Response:
    """The workspace's report for the period, to send to a client or a manager, in its name
    and time zone. `pdf`: the totals and growth per platform and per account (as `/dashboard`
    gives them, against the period of the same length before), each account's followers by
    local day (by week past 92 days) and engagements charted, the top posts and the best times
    to post (as `/insights/best-times`). `csv`: one line per platform and per account, each
    total with its previous value and growth, for a spreadsheet. Computed on each request
    (no ETag: a PDF says when it was made)."""
    reads.workspace(workspace_id)
    period = reads.period(start, to)
    ctx = reads.ctx
    settings = ctx.settings
    content = await report_content.gather(
        reads.repo,
        reads.principal,
        workspace_id,
        period,
        top=settings.top_posts,
        min_posts=settings.best_times_min_posts,
        max_buckets=settings.timeseries_max_buckets,
    )
    name = f"report-{workspace_id}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{format}"
    headers = {
        "Cache-Control": "private, no-cache",
        "Content-Disposition": f'attachment; filename="{name}"',
    }
    if format == "csv":
        lines = (chunk.encode() for chunk in report_csv.render(content))
        return StreamingResponse(lines, media_type=REPORT_FORMATS[format], headers=headers)
    # Laying out pages is CPU work: off the event loop, then sent a chunk at a time.
    document = await to_thread.run_sync(
        functools.partial(report_pdf.render, content, generated_at=ctx.clock())
    )
    chunks = (document[i : i + REPORT_CHUNK] for i in range(0, len(document), REPORT_CHUNK))
    return StreamingResponse(chunks, media_type=REPORT_FORMATS[format], headers=headers)
