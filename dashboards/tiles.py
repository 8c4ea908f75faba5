"""HTML for KPI tiles."""

from __future__ import annotations

from html import escape

from dashboards.formatting import format_change, format_count, format_money, format_ratio
from dashboards.kpis import KpiSummary, KpiTile
from dashboards.labels import label
from dashboards.page_settings import DashboardSettings


def _format_value(tile: KpiTile, value: float | None, settings: DashboardSettings) -> str:
    if tile.kind == "money":
        return format_money(value, settings.currency)
    if tile.kind == "ratio":
        return format_ratio(value)
    return format_count(value)


def _change_class(tile: KpiTile, change: float | None) -> str:
    if change is None or tile.higher_is_better is None or change == 0:
        return "change-neutral"
    improved = (change > 0) == tile.higher_is_better
    return "change-good" if improved else "change-bad"


def _change_html(tile: KpiTile, change: float | None, versus_key: str, missing_key: str, lang: str) -> str:
    text = label(missing_key, lang) if change is None else f"{format_change(change)} {label(versus_key, lang)}"
    return f'<div class="sub {_change_class(tile, change)}">{escape(text)}</div>'


def _target_html(tile: KpiTile, settings: DashboardSettings) -> str:
    attainment = tile.target_attainment
    if tile.target is None:
        return ""
    lang = settings.language
    reached = "change-neutral" if attainment is None else ("change-good" if attainment >= 1 else "change-bad")
    shown = "–" if attainment is None else f"{attainment:.0%}"
    return (
        f'<div class="sub target {reached}" data-target="{tile.target:g}">'
        f'{escape(label("target", lang))} {escape(_format_value(tile, tile.target, settings))} · '
        f'{escape(shown)} {escape(label("of_target", lang))}</div>'
    )


def _tile_html(tile: KpiTile, settings: DashboardSettings) -> str:
    lang = settings.language
    return (
        f'<div class="tile" data-kpi="{escape(tile.key)}">'
        f'<div class="name">{escape(label(f"kpi_{tile.key}", lang))}</div>'
        f'<div class="value">{escape(_format_value(tile, tile.last_7_days, settings))}</div>'
        f"{_change_html(tile, tile.week_over_week, 'vs_previous_week', 'no_previous_week', lang)}"
        f'<div class="sub">{escape(label("last_30_days", lang))}: '
        f"{escape(_format_value(tile, tile.last_30_days, settings))}</div>"
        f"{_change_html(tile, tile.month_over_month, 'vs_previous_30_days', 'no_previous_30_days', lang)}"
        f"{_target_html(tile, settings)}"
        "</div>"
    )


def kpi_tiles_html(summary: KpiSummary, settings: DashboardSettings) -> str:
    """A grid of KPI tiles: 7-day value, week-over-week change and 30-day value."""
    tiles = "".join(_tile_html(tile, settings) for tile in summary.tiles)
    window = label("kpi_window", settings.language, date=summary.latest_date.isoformat())
    return f'<p class="note">{escape(window)}</p><div class="tiles">{tiles}</div>'
