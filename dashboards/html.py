"""Assemble self-contained HTML pages: inline CSS, plotly.js embedded, no external resources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

import plotly.graph_objects as go
import plotly.io as pio

from dashboards.labels import label
from dashboards.page_settings import DashboardSettings

# plotly.js 4 adds a "Share chart" button that uploads the figure's data to Plotly Cloud; user data
# must never leave the machine, so it is removed along with the plotly.com logo link.
PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "modeBarButtonsToRemove": ["sendChartToCloud"],
}

# One font stack for the page and its charts: system fonts only (pages work offline), with CJK faces named
# before the Latin fallbacks so Chinese never falls back to boxes (Debian's fonts-noto-cjk provides
# 'Noto Sans CJK SC'; macOS 'PingFang SC'; Windows 'Microsoft YaHei').
FONT_STACK = ("system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', "
              "'Hiragino Sans GB', 'Microsoft YaHei', 'Source Han Sans SC', 'WenQuanYi Micro Hei', Roboto, "
              "'Helvetica Neue', Arial, sans-serif")

STYLE = """
:root { color-scheme: light; }
body { margin: 0; background: #f5f7fa; color: #1f2933; font-family: FONT_STACK; }
header { background: #1e3a8a; color: #fff; padding: 14px 28px; }
header h1 { margin: 0 0 6px; font-size: 22px; font-weight: 600; }
nav a { color: #dbeafe; margin-right: 18px; text-decoration: none; font-size: 14px; }
nav a.current { color: #fff; font-weight: 600; border-bottom: 2px solid #fff; }
main { max-width: 1280px; margin: 0 auto; padding: 18px 28px 40px; }
section { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.08);
  padding: 16px 20px; margin-bottom: 18px; }
section h2 { margin: 0 0 10px; font-size: 17px; font-weight: 600; }
p.note { color: #52606d; font-size: 13px; margin: 6px 0; }
p.not-available { color: #9a3412; background: #fff7ed; border-left: 3px solid #f97316;
  padding: 8px 12px; margin: 6px 0; font-size: 14px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
.tile { border: 1px solid #e4e7eb; border-radius: 6px; padding: 10px 14px; }
.tile .name { font-size: 13px; color: #52606d; }
.tile .value { font-size: 24px; font-weight: 600; margin: 4px 0; }
.tile .sub { font-size: 12px; color: #7b8794; }
.tile .window { font-size: 11px; color: #7b8794; margin-top: 2px; }
/* As specific as `.tile .sub`, and later, so a change's colour always shows. */
.tile .sub.change-good, .change-good { color: #15803d; font-weight: 600; }
.tile .sub.change-bad, .change-bad { color: #b91c1c; font-weight: 600; }
.tile .sub.change-neutral, .change-neutral { color: #52606d; }
.headline { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 12px; }
p.explain { color: #1f2933; background: #eff6ff; border-left: 3px solid #2563eb; padding: 8px 12px;
  margin: 8px 0; font-size: 13px; }
details summary { cursor: pointer; font-weight: 600; margin: 4px 0 8px; }
td.suppressed { color: #7b8794; font-style: italic; }
ul.pages li { margin: 4px 0; }
table { border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; padding: 6px 14px 6px 0; border-bottom: 1px solid #e4e7eb; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
footer { color: #7b8794; font-size: 12px; text-align: center; padding: 12px; }
"""


@dataclass(frozen=True)
class Section:
    """One block of a page: a heading with a figure, an HTML fragment and/or notes.

    ``body_html`` must already be escaped; notes are plain text and escaped on output.
    ``unavailable`` holds reasons shown as "not available: <why>"; ``explain`` holds the sentences that say
    why two figures beside each other legitimately differ, shown above the chart.
    """

    heading: str
    figure: go.Figure | None = None
    body_html: str = ""
    notes: Sequence[str] = field(default_factory=tuple)
    unavailable: Sequence[str] = field(default_factory=tuple)
    explain: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class NavLink:
    """A link in the page header."""

    href: str
    text: str


def figure_html(fig: go.Figure, include_plotlyjs: bool) -> str:
    """A figure as an HTML fragment; the first figure of a page carries the whole plotly.js."""
    height = fig.layout.height
    return pio.to_html(
        fig,
        config=PLOT_CONFIG,
        include_plotlyjs=include_plotlyjs,
        include_mathjax=False,
        full_html=False,
        default_height=f"{height}px" if height else "100%",
    )


def not_available_html(reason: str, language: str) -> str:
    """The plain note shown instead of a chart that cannot be drawn."""
    return f'<p class="not-available">{escape(label("not_available", language, reason=reason))}</p>'


def _section_html(section: Section, language: str, include_plotlyjs: bool) -> str:
    # A chart carries its own title, so a heading above it would only repeat it.
    heading = "" if section.figure is not None else f"<h2>{escape(section.heading)}</h2>"
    parts = [f"<section>{heading}"]
    parts.extend(not_available_html(reason, language) for reason in section.unavailable)
    parts.extend(f'<p class="explain">{escape(text)}</p>' for text in section.explain)
    if section.body_html:
        parts.append(section.body_html)
    if section.figure is not None:
        parts.append(figure_html(section.figure, include_plotlyjs))
    parts.extend(f'<p class="note">{escape(note)}</p>' for note in section.notes)
    parts.append("</section>")
    return "\n".join(parts)


def render_page(
    page_title: str,
    sections: Sequence[Section],
    settings: DashboardSettings,
    nav: Sequence[NavLink],
    current_href: str,
    footer: str = "",
) -> str:
    """A complete, self-contained HTML document for one dashboard page."""
    lang_attr = "zh-CN" if settings.language == "zh" else "en"
    current = ' class="current"'
    nav_html = " ".join(
        f'<a href="{escape(link.href)}"{current if link.href == current_href else ""}>{escape(link.text)}</a>'
        for link in nav
    )
    body_parts = []
    plotlyjs_pending = True
    for section in sections:
        body_parts.append(_section_html(section, settings.language, plotlyjs_pending))
        if section.figure is not None:
            plotlyjs_pending = False
    return f"""<!DOCTYPE html>
<html lang="{lang_attr}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(settings.title)} · {escape(page_title)}</title>
<link rel="icon" href="data:,">
<style>{STYLE.replace("FONT_STACK", FONT_STACK)}</style>
</head>
<body>
<header><h1>{escape(settings.title)} · {escape(page_title)}</h1><nav>{nav_html}</nav></header>
<main>
{chr(10).join(body_parts)}
</main>
<footer>{escape(footer)}</footer>
</body>
</html>
"""


Cell = str | tuple[str, str]


def table_html(headers: Sequence[str], rows: Sequence[Sequence[Cell]], numeric: Sequence[bool]) -> str:
    """A simple escaped table; ``numeric`` marks right-aligned columns.

    A cell is its text, or (text, attributes) where the attributes are already escaped (e.g. the
    ``data-metric``/``data-value`` pair of :func:`dashboards.metric_text.cell`).
    """
    number_class = ' class="number"'
    head = "".join(f"<th>{escape(text)}</th>" for text in headers)

    def cell_html(cell: Cell, is_number: bool) -> str:
        text, attributes = (cell, "") if isinstance(cell, str) else cell
        return f'<td{number_class if is_number else ""}{attributes}>{escape(text)}</td>'

    body = "".join(
        "<tr>" + "".join(cell_html(cell, is_number) for cell, is_number in zip(row, numeric, strict=True)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
