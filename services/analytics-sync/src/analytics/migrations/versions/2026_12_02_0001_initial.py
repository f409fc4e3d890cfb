"""initial: the analytics schema (projections, tracked posts, partitioned snapshots, latest
values, daily rollups, syncs, budgets, outbox, inbox, member changes)

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

from socialseed.migrations import create_outbox_and_inbox_v1

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# Tables rewritten in place on every fetch (latest values, today's rollup, tracked posts) leave
# a fifth of each page free, so an update can stay on its page (HOT) and skip the indexes.
# The DDL as written at this revision (self-contained: later model changes do not rewrite it;
# the outbox and inbox come from the frozen shared helper).
STATEMENTS = [
    """
CREATE TABLE analytics.account_daily (
    account_id UUID NOT NULL,
    day DATE NOT NULL,
    workspace_id UUID NOT NULL,
    fetched_at TIMESTAMP WITH TIME ZONE NOT NULL,
    followers BIGINT,
    following BIGINT,
    posts BIGINT,
    views BIGINT,
    impressions BIGINT,
    reach BIGINT,
    CONSTRAINT pk_account_daily PRIMARY KEY (account_id, day)
)
WITH (fillfactor = 80)
""",
    "CREATE INDEX ix_account_daily_workspace_day ON analytics.account_daily (workspace_id, day)",
    """
CREATE TABLE analytics.account_latest (
    account_id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    fetched_at TIMESTAMP WITH TIME ZONE NOT NULL,
    followers BIGINT,
    following BIGINT,
    posts BIGINT,
    views BIGINT,
    impressions BIGINT,
    reach BIGINT,
    CONSTRAINT pk_account_latest PRIMARY KEY (account_id)
)
WITH (fillfactor = 80)
""",
    "CREATE INDEX ix_account_latest_workspace ON analytics.account_latest (workspace_id)",
    """
CREATE TABLE analytics.account_snapshots (
    account_id UUID NOT NULL,
    fetched_at TIMESTAMP WITH TIME ZONE NOT NULL,
    followers BIGINT,
    following BIGINT,
    posts BIGINT,
    views BIGINT,
    impressions BIGINT,
    reach BIGINT,
    raw JSONB NOT NULL,
    CONSTRAINT pk_account_snapshots PRIMARY KEY (account_id, fetched_at)
)
 PARTITION BY RANGE (fetched_at)
""",
    """
CREATE TABLE analytics.accounts (
    id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    platform VARCHAR(16) NOT NULL,
    platform_user_id VARCHAR(200) NOT NULL,
    username VARCHAR(200) NOT NULL,
    status VARCHAR(20) NOT NULL,
    tracking BOOLEAN NOT NULL,
    stopped_at TIMESTAMP WITH TIME ZONE,
    connected_at TIMESTAMP WITH TIME ZONE,
    backfill_requested_at TIMESTAMP WITH TIME ZONE,
    backfilled_at TIMESTAMP WITH TIME ZONE,
    last_synced_at TIMESTAMP WITH TIME ZONE,
    next_sync_at TIMESTAMP WITH TIME ZONE,
    lease_owner VARCHAR(200),
    lease_until TIMESTAMP WITH TIME ZONE,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_accounts PRIMARY KEY (id)
)
""",
    """
CREATE INDEX ix_accounts_backfill
    ON analytics.accounts (backfill_requested_at)
    WHERE tracking AND backfill_requested_at IS NOT NULL
        AND (backfilled_at IS NULL OR backfilled_at < backfill_requested_at)
""",
    "CREATE INDEX ix_accounts_workspace ON analytics.accounts (workspace_id)",
    "CREATE INDEX ix_accounts_due ON analytics.accounts (platform, next_sync_at) WHERE tracking",
    """
CREATE TABLE analytics.budgets (
    bucket VARCHAR(200) NOT NULL,
    platform VARCHAR(16) NOT NULL,
    "limit" INTEGER,
    used INTEGER DEFAULT '0' NOT NULL,
    remaining INTEGER,
    used_percent DOUBLE PRECISION,
    window_start TIMESTAMP WITH TIME ZONE,
    reset_at TIMESTAMP WITH TIME ZONE,
    blocked_until TIMESTAMP WITH TIME ZONE,
    last_signal JSONB,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_budgets PRIMARY KEY (bucket)
)
""",
    """
CREATE TABLE analytics.member_changes (
    workspace_id UUID NOT NULL,
    user_id UUID NOT NULL,
    role VARCHAR(20),
    changed_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_member_changes PRIMARY KEY (workspace_id, user_id)
)
""",
    "CREATE INDEX ix_member_changes_user_changed ON analytics.member_changes (user_id, changed_at)",
    """
CREATE TABLE analytics.post_daily (
    tracked_post_id UUID NOT NULL,
    day DATE NOT NULL,
    account_id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    fetched_at TIMESTAMP WITH TIME ZONE NOT NULL,
    views BIGINT,
    impressions BIGINT,
    reach BIGINT,
    likes BIGINT,
    comments BIGINT,
    shares BIGINT,
    saves BIGINT,
    clicks BIGINT,
    video_views BIGINT,
    watch_time_s DOUBLE PRECISION,
    CONSTRAINT pk_post_daily PRIMARY KEY (tracked_post_id, day)
)
WITH (fillfactor = 80)
""",
    "CREATE INDEX ix_post_daily_account_day ON analytics.post_daily (account_id, day)",
    """
CREATE TABLE analytics.post_latest (
    tracked_post_id UUID NOT NULL,
    account_id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    fetched_at TIMESTAMP WITH TIME ZONE NOT NULL,
    views BIGINT,
    impressions BIGINT,
    reach BIGINT,
    likes BIGINT,
    comments BIGINT,
    shares BIGINT,
    saves BIGINT,
    clicks BIGINT,
    video_views BIGINT,
    watch_time_s DOUBLE PRECISION,
    CONSTRAINT pk_post_latest PRIMARY KEY (tracked_post_id)
)
WITH (fillfactor = 80)
""",
    "CREATE INDEX ix_post_latest_account ON analytics.post_latest (account_id)",
    """
CREATE TABLE analytics.post_snapshots (
    tracked_post_id UUID NOT NULL,
    fetched_at TIMESTAMP WITH TIME ZONE NOT NULL,
    views BIGINT,
    impressions BIGINT,
    reach BIGINT,
    likes BIGINT,
    comments BIGINT,
    shares BIGINT,
    saves BIGINT,
    clicks BIGINT,
    video_views BIGINT,
    watch_time_s DOUBLE PRECISION,
    account_id UUID NOT NULL,
    raw JSONB NOT NULL,
    CONSTRAINT pk_post_snapshots PRIMARY KEY (tracked_post_id, fetched_at)
)
 PARTITION BY RANGE (fetched_at)
""",
    """
CREATE TABLE analytics.syncs (
    id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    account_id UUID,
    requested_by UUID,
    platforms VARCHAR(16)[],
    post_limit INTEGER,
    status VARCHAR(16) NOT NULL,
    total_posts INTEGER DEFAULT '0' NOT NULL,
    synced INTEGER DEFAULT '0' NOT NULL,
    failed INTEGER DEFAULT '0' NOT NULL,
    rate_limited INTEGER DEFAULT '0' NOT NULL,
    by_platform JSONB DEFAULT '{}' NOT NULL,
    errors JSONB DEFAULT '[]' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    started_at TIMESTAMP WITH TIME ZONE,
    finished_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_syncs PRIMARY KEY (id)
)
""",
    "CREATE INDEX ix_syncs_workspace_created ON analytics.syncs (workspace_id, created_at)",
    """
CREATE TABLE analytics.tracked_posts (
    id UUID NOT NULL,
    account_id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    platform VARCHAR(16) NOT NULL,
    platform_post_id VARCHAR(200) NOT NULL,
    publisher_post_id UUID,
    publisher_target_id UUID,
    published_at TIMESTAMP WITH TIME ZONE NOT NULL,
    url TEXT,
    text TEXT,
    kind VARCHAR(32),
    source VARCHAR(16) NOT NULL,
    status VARCHAR(16) NOT NULL,
    gap VARCHAR(32),
    gap_message TEXT,
    last_fetched_at TIMESTAMP WITH TIME ZONE,
    next_fetch_at TIMESTAMP WITH TIME ZONE,
    lease_owner VARCHAR(200),
    lease_until TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_tracked_posts PRIMARY KEY (id),
    CONSTRAINT uq_tracked_posts_account_id UNIQUE (account_id, platform_post_id)
)
WITH (fillfactor = 80)
""",
    """
CREATE INDEX ix_tracked_posts_due_platform
    ON analytics.tracked_posts (platform, next_fetch_at)
    WHERE status = 'active'
""",
    """
CREATE UNIQUE INDEX ix_tracked_posts_publisher_target
    ON analytics.tracked_posts (publisher_target_id)
    WHERE publisher_target_id IS NOT NULL
""",
    """
CREATE INDEX ix_tracked_posts_due_account
    ON analytics.tracked_posts (account_id, next_fetch_at)
    WHERE status = 'active'
""",
    """
CREATE INDEX ix_tracked_posts_workspace_published
    ON analytics.tracked_posts (workspace_id, published_at)
""",
    """
CREATE TABLE analytics.workspaces (
    id UUID NOT NULL,
    timezone VARCHAR(64) NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_workspaces PRIMARY KEY (id)
)
""",
]

# Daily partitions of the snapshot tables from yesterday to a week ahead; the retention
# leader keeps creating them ahead from then on (and drops the expired ones).
PARTITIONS = """
DO $$
DECLARE
    d date;
    t text;
BEGIN
    FOR d IN SELECT generate_series(current_date - 1, current_date + 7, interval '1 day')::date
    LOOP
        FOREACH t IN ARRAY ARRAY['post_snapshots', 'account_snapshots'] LOOP
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS analytics.%I PARTITION OF analytics.%I '
                'FOR VALUES FROM (%L) TO (%L)',
                t || '_p' || to_char(d, 'YYYYMMDD'), t,
                d::text || ' 00:00+00', (d + 1)::text || ' 00:00+00'
            );
        END LOOP;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
    create_outbox_and_inbox_v1(op, schema="analytics")
    op.execute(PARTITIONS)


def downgrade() -> None:
    for table in (
        "post_snapshots", "account_snapshots", "post_latest", "account_latest", "post_daily",
        "account_daily", "tracked_posts", "accounts", "workspaces", "syncs", "budgets",
        "outbox", "inbox", "member_changes",
    ):  # fmt: skip
        op.execute(f"DROP TABLE IF EXISTS analytics.{table} CASCADE")
