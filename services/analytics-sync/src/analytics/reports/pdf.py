"""The report as a PDF (ReportLab: its page layout and its own charts, no plotting stack):
the period's totals and growth per platform and per account, followers and engagements
charted, the top posts and the best times, every date in the workspace's zone.

Post texts and usernames come from the platforms: they are escaped before they reach
ReportLab's paragraph markup, so a text like ``<font size=99>`` is shown, not obeyed."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from analytics.reports.content import TOTALS, Report, Row, local
from analytics.reports.tables import DASH, LABELS, WEEKDAYS, cell, number

# A Unicode font where the system has one (posts carry accents, CJK, ...); else the PDF's
# built-in Helvetica, which draws Latin-1 only.
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
SERIES_COLORS = [
    colors.HexColor(c)
    for c in (
        "#2563eb",
        "#16a34a",
        "#dc2626",
        "#9333ea",
        "#ea580c",
        "#0891b2",
        "#4b5563",
        "#ca8a04",
    )
]
MAX_LINES = len(SERIES_COLORS)  # accounts drawn in the followers chart (the largest)
# Landscape: the totals tables have eight columns of a value and its growth.
PAGE = landscape(A4)
WIDTH = PAGE[0] - 30 * mm


def _fonts() -> tuple[str, str]:
    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    if not (regular.exists() and bold.exists()):
        return "Helvetica", "Helvetica-Bold"
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
    return "DejaVuSans", "DejaVuSans-Bold"


def render(report: Report, *, generated_at: datetime) -> bytes:
    font, bold = _fonts()
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=font, fontSize=9, leading=11)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9, textColor=colors.grey)
    h1 = ParagraphStyle("h1", parent=base["Title"], fontName=bold, fontSize=18, alignment=0)
    h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=12)

    start = local(report, report.period.start)
    # The period is [from, to): its last day is the one before `to`.
    end = local(report, report.period.end - timedelta(microseconds=1))
    story: list[Flowable] = [
        Paragraph(escape(report.workspace_name), h1),
        Paragraph(
            f"Analytics report, {start:%d %b %Y} {DASH} {end:%d %b %Y} ({escape(report.timezone)})."
            " Growth compares with the period of the same length just before.",
            body,
        ),
        Paragraph(f"Generated {local(report, generated_at):%d %b %Y %H:%M} by SocialSeed.", small),
        Paragraph("Totals by platform", h2),
        _totals_table(report.platforms, body, bold, by_account=False),
        Paragraph("Accounts", h2),
        _totals_table(report.accounts, body, bold, by_account=True),
    ]
    if report.followers:
        story += [Paragraph("Followers", h2), _followers_chart(report, font)]
    if report.accounts:
        story += [Paragraph("Engagements by account", h2), _engagements_chart(report, font)]
    story += [Paragraph("Top posts", h2), _top_posts(report, body, bold)]
    story += [Paragraph("Best times to post", h2), _best_times(report, body, bold)]

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{report.workspace_name}: analytics report",
        author="SocialSeed",
    )
    doc.build(story)
    return out.getvalue()


def _table(rows: list[list[object]], bold: str, widths: list[float] | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), bold),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f3f4f6")]),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def _totals_table(
    rows: list[Row], body: ParagraphStyle, bold: str, *, by_account: bool
) -> Flowable:
    if not rows:
        return Paragraph("No accounts connected.", body)
    head: list[object] = ["Account" if by_account else "Platform"]
    if by_account:
        head.append(LABELS["followers"])
    head += [LABELS[m] for m in TOTALS]
    lines: list[list[object]] = [head]
    for row in rows:
        name = (
            Paragraph(f"{escape(row.account.username)}<br/>{escape(row.platform)}", body)
            if row.account
            else row.platform
        )
        line: list[object] = [name]
        if by_account:
            line.append(cell("followers", row.followers))
        line += [cell(m, row.totals[m]) for m in TOTALS]
        lines.append(line)
    first = 45 * mm if by_account else 30 * mm
    rest = (WIDTH - first) / (len(head) - 1)
    return _table(lines, bold, [first, *[rest] * (len(head) - 1)])


def _followers_chart(report: Report, font: str) -> Drawing:
    drawn = sorted(
        report.followers,
        key=lambda pair: -max((b.value or 0) for b in pair[1].buckets) if pair[1].buckets else 0,
    )[:MAX_LINES]
    drawing = Drawing(WIDTH, 70 * mm)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 15 * mm, 18 * mm, WIDTH - 60 * mm, 48 * mm
    series = []
    for _, ts in drawn:
        points = [(i, float(b.value)) for i, b in enumerate(ts.buckets) if b.value is not None]
        series.append(points or [(0, 0.0)])
    plot.data = series
    for i in range(len(series)):
        plot.lines[i].strokeColor = SERIES_COLORS[i]
        plot.lines[i].strokeWidth = 1.5
        # A marker per fetched bucket: an account with one fetch in the period is a point.
        marker = makeMarker("FilledCircle", size=3)
        marker.fillColor = marker.strokeColor = SERIES_COLORS[i]
        plot.lines[i].symbol = marker
    buckets = drawn[0][1].buckets if drawn else []
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, max(len(buckets) - 1, 1)
    step = max(1, len(buckets) // 6)
    plot.xValueAxis.valueSteps = list(range(0, len(buckets), step))
    plot.xValueAxis.labelTextFormat = lambda i: (
        f"{buckets[int(i)].start:%d %b}" if 0 <= int(i) < len(buckets) else ""
    )
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName, axis.labels.fontSize = font, 7
    plot.yValueAxis.labelTextFormat = lambda v: number(v)
    drawing.add(plot)
    drawing.add(_legend([f"{ref.username} ({ref.platform})" for ref, _ in drawn], font))
    return drawing


def _engagements_chart(report: Report, font: str) -> Drawing:
    rows = report.accounts[:12]
    height = (14 + 9 * len(rows)) * mm / 2 + 20 * mm
    drawing = Drawing(WIDTH, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 45 * mm, 12 * mm
    chart.width, chart.height = WIDTH - 60 * mm, height - 18 * mm
    chart.data = [
        [float(r.totals["engagements"].value or 0) for r in rows],
        [float(r.totals["engagements"].previous or 0) for r in rows],
    ]
    chart.categoryAxis.categoryNames = [
        f"{r.account.username[:24]} ({r.platform})" if r.account else r.platform for r in rows
    ]
    chart.bars[0].fillColor = SERIES_COLORS[0]
    chart.bars[1].fillColor = colors.HexColor("#cbd5e1")
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda v: number(v)
    for labels in (chart.categoryAxis.labels, chart.valueAxis.labels):
        labels.fontName, labels.fontSize = font, 7
    drawing.add(chart)
    legend = _legend(
        ["This period", "Previous period"], font, [SERIES_COLORS[0], chart.bars[1].fillColor]
    )
    legend.x, legend.y = 45 * mm, 4 * mm
    legend.columnMaximum = 1
    drawing.add(legend)
    return drawing


def _legend(names: list[str], font: str, fills: list[colors.Color] | None = None) -> Legend:
    legend = Legend()
    legend.x, legend.y = WIDTH - 42 * mm, 64 * mm
    legend.fontName, legend.fontSize = font, 7
    legend.alignment = "right"
    legend.colorNamePairs = list(zip(fills or SERIES_COLORS, names, strict=False))
    return legend


def _top_posts(report: Report, body: ParagraphStyle, bold: str) -> Flowable:
    if not report.top_posts:
        return Paragraph("No post was published in the period.", body)
    usernames = {r.account.id: r.account.username for r in report.accounts if r.account}
    lines: list[list[object]] = [["#", "Post", "Published", "Engagements", "Engagement rate"]]
    for rank, post in enumerate(report.top_posts, 1):
        text = (post.text or "").strip().replace("\n", " ")
        shown = text if len(text) <= 140 else text[:139] + "…"
        who = f"{usernames.get(post.account_id, '')} ({post.platform})"
        lines.append(
            [
                str(rank),
                Paragraph(f"{escape(shown) or '<i>(no text)</i>'}<br/>{escape(who)}", body),
                f"{local(report, post.published_at):%d %b %H:%M}",
                number(post.metrics.engagements),
                number(post.metrics.engagement_rate, "engagement_rate"),
            ]
        )
    return _table(lines, bold, [8 * mm, WIDTH - 83 * mm, 25 * mm, 25 * mm, 25 * mm])


def _best_times(report: Report, body: ParagraphStyle, bold: str) -> Flowable:
    if not report.best_times:
        return Paragraph(
            "Not enough posts yet: an hour of the week needs "
            f"{report.best_times_min_posts} posts published in it before its median counts.",
            body,
        )
    lines: list[list[object]] = [["When (local)", "Median engagement rate", "Posts"]]
    for slot in report.best_times:
        lines.append(
            [
                f"{WEEKDAYS[slot.weekday]} {slot.hour:02d}:00{DASH}{slot.hour:02d}:59",
                number(slot.median_engagement_rate, "engagement_rate"),
                str(slot.posts),
            ]
        )
    return _table(lines, bold, [60 * mm, 45 * mm, 20 * mm])
