"""shared budgets: ``budgets`` / ``budget_shares`` recreated from the shared engine's one
description (``socialseed.budgets``); their rows are counters the platforms' next answers and
the next windows rebuild

Revision ID: 0006_shared_budgets
Revises: 0005_budget_shares
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

from socialseed.budgets import migration

revision: str = "0006_shared_budgets"
down_revision: str | None = "0005_budget_shares"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    migration.drop_tables(op, "analytics")
    migration.create_tables(op, "analytics")


def downgrade() -> None:
    # The tables of 0001 and 0005 had this very shape: recreated empty.
    migration.drop_tables(op, "analytics")
    migration.create_tables(op, "analytics")
