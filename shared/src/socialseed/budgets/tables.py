"""The budget tables, described once: each service keeps its own pair in its own schema
(``budget_tables(Base.metadata)`` in its models; ``socialseed.budgets.migration`` creates them).

- ``budgets``: one row per bucket (a ``Rule.key``, or a bucket only the platform's signals
  name): what our window allows and holds, what the platform last said, and until when the
  bucket is blocked. An account-scoped ``rolling`` rule's row holds no count (the caller's own
  record is the count): its block, and the row lock that serialises one account's checks.
- ``budget_shares``: what one workspace took of an app-wide bucket in the bucket's window that
  opened at ``window_start`` (an older window's share starts again at the next call).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Column,
    DateTime,
    Double,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.schema import SchemaItem

BUDGETS = "budgets"
SHARES = "budget_shares"


def _ts(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _updated_at() -> Column[object]:
    return Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def budgets_items() -> list[SchemaItem]:
    """The columns and key of ``budgets`` (fresh objects: a table and a migration each take
    their own)."""
    return [
        Column("bucket", String(200), nullable=False),
        Column("platform", String(16), nullable=False),
        Column("limit", Integer),
        Column("used", Integer, nullable=False, server_default="0"),
        Column("remaining", Integer),
        Column("used_percent", Double),
        _ts("window_start"),
        _ts("reset_at"),
        _ts("blocked_until"),
        Column("last_signal", JSONB),
        _updated_at(),
        PrimaryKeyConstraint("bucket", name="pk_budgets"),
    ]


def shares_items() -> list[SchemaItem]:
    return [
        Column("bucket", String(200), nullable=False),
        Column("workspace_id", Uuid, nullable=False),
        _ts("window_start", nullable=False),
        Column("used", Integer, nullable=False, server_default="0"),
        _updated_at(),
        PrimaryKeyConstraint("bucket", "workspace_id", name="pk_budget_shares"),
    ]


@dataclass(frozen=True)
class BudgetTables:
    budgets: Table
    shares: Table


def budget_tables(metadata: MetaData) -> BudgetTables:
    """The two tables in ``metadata`` (its schema: the service's)."""
    return BudgetTables(
        Table(BUDGETS, metadata, *budgets_items()), Table(SHARES, metadata, *shares_items())
    )
