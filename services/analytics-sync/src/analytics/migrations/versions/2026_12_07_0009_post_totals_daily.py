"""post totals by account and day: the dashboard's post totals read from one row per account
and UTC day of publication instead of every post of the period, with the day's best post by
engagements (the dashboard's top posts are among the posts of the best days)

Revision ID: 0009_post_totals_daily
Revises: 0008_workspace_names
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_post_totals_daily"
down_revision: str | None = "0008_workspace_names"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# As analytics.models.POST_METRICS; watch_time_s summed exactly (numeric), the rest bigint.
COUNTS = ("views", "impressions", "reach", "likes", "comments", "shares", "saves", "clicks",
          "video_views")  # fmt: skip


def upgrade() -> None:
    columns = ",\n    ".join(f"{m} bigint" for m in COUNTS)
    op.execute(f"""
CREATE TABLE analytics.post_totals_daily (
    workspace_id uuid NOT NULL,
    day date NOT NULL,
    account_id uuid NOT NULL,
    posts_published integer NOT NULL,
    {columns},
    watch_time_s numeric,
    best_engagements bigint,
    best_post_id uuid,
    CONSTRAINT pk_post_totals_daily PRIMARY KEY (workspace_id, day, account_id)
) WITH (fillfactor = 80)""")
    sums = ", ".join(f"sum(l.{m})" for m in COUNTS)
    # The existing posts' totals (column names from COUNTS above, no input).
    op.execute(f"""
INSERT INTO analytics.post_totals_daily
SELECT t.workspace_id, (t.published_at AT TIME ZONE 'UTC')::date, t.account_id, count(*),
       {sums}, sum(CAST(l.watch_time_s AS numeric))
FROM analytics.tracked_posts t
LEFT JOIN analytics.post_latest l ON l.tracked_post_id = t.id
WHERE t.published_at IS NOT NULL
GROUP BY 1, 2, 3""")  # noqa: S608
    engagements = (
        "(CASE WHEN coalesce(l.likes, l.comments, l.shares, l.saves) IS NULL THEN NULL "
        "ELSE coalesce(l.likes, 0) + coalesce(l.comments, 0) + coalesce(l.shares, 0) "
        "+ coalesce(l.saves, 0) END)"
    )
    op.execute(f"""
UPDATE analytics.post_totals_daily d
SET best_engagements = b.engagements, best_post_id = b.id
FROM (
    SELECT DISTINCT ON (t.workspace_id, (t.published_at AT TIME ZONE 'UTC')::date, t.account_id)
           t.workspace_id, (t.published_at AT TIME ZONE 'UTC')::date AS day, t.account_id,
           {engagements} AS engagements, t.id
    FROM analytics.tracked_posts t
    JOIN analytics.post_latest l ON l.tracked_post_id = t.id
    WHERE t.published_at IS NOT NULL AND {engagements} IS NOT NULL
    ORDER BY t.workspace_id, (t.published_at AT TIME ZONE 'UTC')::date, t.account_id,
             {engagements} DESC, t.id DESC
) b
WHERE d.workspace_id = b.workspace_id AND d.day = b.day AND d.account_id = b.account_id""")  # noqa: S608


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS analytics.post_totals_daily")
