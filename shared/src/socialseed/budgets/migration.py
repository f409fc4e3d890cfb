"""The budget tables in a service's Alembic migration, from the one description
(``socialseed.budgets.tables``)::

    from socialseed.budgets import migration

    def upgrade() -> None:
        migration.create_tables(op, "publisher")
"""

from __future__ import annotations

from alembic.operations import Operations

from socialseed.budgets.tables import BUDGETS, SHARES, budgets_items, shares_items


def create_tables(op: Operations, schema: str) -> None:
    op.create_table(BUDGETS, *budgets_items(), schema=schema)
    op.create_table(SHARES, *shares_items(), schema=schema)


def drop_tables(op: Operations, schema: str) -> None:
    op.drop_table(SHARES, schema=schema)
    op.drop_table(BUDGETS, schema=schema)
