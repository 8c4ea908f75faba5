"""HTML for KPI tiles."""

from __future__ import annotations

from html import escape

from dashboards.formatting import format_change, format_count, format_money, format_ratio
from dashboards.kpis import KpiSummary, KpiTile
from dashboards.labels import label
from dashboards.settings import DashboardSettings


def _format_value(tile: KpiTile, value: float | None, settings: DashboardSettings) -> str:
    if tile.kind == "money":
        return format_money(value, settings.currency)
    if tile.kind == "ratio":
        return format_ratio(value)
    return format_count(value)


def _change_class(tile: KpiTile) -> str:
    if tile.week_over_week is None or tile.higher_is_better is None or tile.week_over_week == 0:
        return "change-neutral"
    improved = (tile.week_over_week > 0) == tile.higher_is_better
    return "change-good" if improved else "change-bad"


def _tile_html(tile: KpiTile, settings: DashboardSettings) -> str:
    lang = settings.language
    if tile.week_over_week is None:
        change = label("no_previous_week", lang)
    else:
        change = f"{format_change(tile.week_over_week)} {label('vs_previous_week', lang)}"
    return (
        f'<div class="tile" data-kpi="{escape(tile.key)}">'
        f'<div class="name">{escape(label(f"kpi_{tile.key}", lang))}</div>'
        f'<div class="value">{escape(_format_value(tile, tile.last_7_days, settings))}</div>'
        f'<div class="sub {_change_class(tile)}">{escape(change)}</div>'
        f'<div class="sub">{escape(label("last_30_days", lang))}: '
        f"{escape(_format_value(tile, tile.last_30_days, settings))}</div>"
        "</div>"
    )


def kpi_tiles_html(summary: KpiSummary, settings: DashboardSettings) -> str:
    """A grid of KPI tiles: 7-day value, week-over-week change and 30-day value."""
    tiles = "".join(_tile_html(tile, settings) for tile in summary.tiles)
    window = label("kpi_window", settings.language, date=summary.latest_date.isoformat())
    return f'<p class="note">{escape(window)}</p><div class="tiles">{tiles}</div>'
