"""The report as CSV: one line per platform and per account, each total with the previous
period's value and the growth (a fraction, as the API gives it), for a spreadsheet. Text that
a spreadsheet would run as a formula is written as text (``socialseed.spreadsheets``)."""

from __future__ import annotations

from collections.abc import Iterator

from analytics.reports.content import TOTALS, Report, Row
from socialseed.spreadsheets import csv_rows

MEASURES = (*TOTALS, "followers")
HEADER = [
    "row",
    "platform",
    "account_id",
    "username",
    *(f"{m}{suffix}" for m in MEASURES for suffix in ("", "_previous", "_growth")),
]


def _line(kind: str, row: Row) -> list[object]:
    values: list[object] = [
        kind,
        row.platform,
        str(row.account.id) if row.account else "",
        row.account.username if row.account else "",
    ]
    for m in MEASURES:
        change = row.followers if m == "followers" else row.totals.get(m)
        values += [change.value, change.previous, change.growth] if change else ["", "", ""]
    return values


def render(report: Report) -> Iterator[str]:
    yield csv_rows([HEADER])
    yield csv_rows(_line("platform", r) for r in report.platforms)
    yield csv_rows(_line("account", r) for r in report.accounts)
