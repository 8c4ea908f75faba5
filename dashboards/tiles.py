"""HTML for headline tiles: value, like-for-like change, target in the metric's direction, window."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from dashboards.formatting import MISSING
from dashboards.kpis import HeadlineTile
from dashboards.labels import label
from dashboards.metric_text import definitions_html as metric_definitions
from dashboards.metric_text import format_value, metric, metric_definition, metric_name, window_text
from dashboards.page_settings import DashboardSettings


def _value_text(tile: HeadlineTile, settings: DashboardSettings) -> str:
    if tile.value is None:
        return label(tile.missing_reason, settings.language) if tile.missing_reason else MISSING
    return format_value(tile.metric_id, tile.value, settings)


def _class(good: bool | None) -> str:
    return "change-neutral" if good is None else ("change-good" if good else "change-bad")


def _change_html(tile: HeadlineTile, settings: DashboardSettings) -> str:
    lang = settings.language
    if tile.change is None:
        text = label("no_like_for_like", lang)
    else:
        change = f"{tile.change * 100:+.1f} pp" if tile.unit == "share" else f"{tile.change:+.1%}"
        verdict = {True: label("better", lang), False: label("worse", lang), None: ""}[tile.change_is_good]
        versus = "vs_previous_cohort" if metric(tile.metric_id).aggregate == "cohort_cell" else "vs_previous_period"
        text = label("change_vs", lang, change=change, versus=label(versus, lang),
                     verdict=(f"（{verdict}）" if lang == "zh" else f" ({verdict})") if verdict else "")
    return f'<div class="sub change {_class(tile.change_is_good)}">{escape(text)}</div>'


def _target_html(tile: HeadlineTile, settings: DashboardSettings) -> str:
    if tile.target is None:
        return ""
    lang = settings.language
    ceiling = metric(tile.metric_id).target == "at_most"
    target_text = format_value(tile.metric_id, tile.target_to_date, settings)
    if tile.target_to_date != tile.target:
        target_text = label("target_prorated", lang, target=target_text,
                            monthly=format_value(tile.metric_id, tile.target, settings))
    gap = tile.target_gap
    if gap is None:
        verdict, good = label("target_unknown", lang), None
    else:
        good = gap >= 0
        amount = f"{abs(gap):.0%}"
        verdict = label("target_better" if good else "target_worse", lang, amount=amount)
    text = label("target_ceiling" if ceiling else "target_floor", lang, target=target_text, verdict=verdict)
    return (f'<div class="sub target {_class(good)}" data-target="{tile.target_to_date:g}" '
            f'data-target-met="{"" if good is None else str(good).lower()}">{escape(text)}</div>')


def _tile_html(tile: HeadlineTile, settings: DashboardSettings, show_window: bool) -> str:
    lang = settings.language
    value = "" if tile.value is None else repr(float(tile.value))
    previous = "" if tile.previous is None else repr(float(tile.previous))
    window = ""
    if show_window and tile.start is not None:
        # A cohort tile's window is a sign-up month.
        start = tile.start.strftime("%Y-%m") if metric(tile.metric_id).aggregate == "cohort_cell" else tile.start
        window = window_text(tile.metric_id, settings, start, tile.end, tile.previous_start, tile.previous_end)
        window = f'<div class="window">{escape(window)}</div>'
    return (
        f'<div class="tile" data-metric="{escape(tile.metric_id)}" data-value="{value}" data-previous="{previous}" '
        f'title="{escape(metric_definition(tile.metric_id, lang))}">'
        f'<div class="name">{escape(metric_name(tile.metric_id, lang))}</div>'
        f'<div class="value">{escape(_value_text(tile, settings))}</div>'
        f"{_change_html(tile, settings)}{_target_html(tile, settings)}{window}"
        "</div>"
    )


def tiles_html(tiles: Sequence[HeadlineTile], settings: DashboardSettings) -> str:
    """A grid of tiles; a tile whose window differs from the page's period (a cohort's) states its own."""
    period = next((t for t in tiles if metric(t.metric_id).window == "month_to_date" and t.start is not None), None)
    header = ""
    if period is not None:
        header = window_text(period.metric_id, settings, period.start, period.end, period.previous_start,
                             period.previous_end)
        header = f'<p class="note">{escape(header)}</p>'
    body = "".join(_tile_html(tile, settings, metric(tile.metric_id).window != "month_to_date") for tile in tiles)
    return f'{header}<div class="tiles">{body}</div>'


def definitions_html(tiles: Sequence[HeadlineTile], settings: DashboardSettings) -> str:
    """A folded list of what every tile means, from the registry."""
    return metric_definitions([t.metric_id for t in tiles], settings, label("definitions", settings.language))
