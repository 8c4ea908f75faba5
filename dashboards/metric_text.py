"""Figures as the metric registry defines them: names, units, windows and values in the reader's language.

Every KPI a page shows goes through here, so it carries the registry's name, is written in its unit (money in
the data's currency) and states its window. Cells and tiles also carry `data-metric` and `data-value`
attributes with the unformatted value, so a browser test can read each figure back and compare it with the
mart it came from.
"""

from __future__ import annotations

from datetime import date
from html import escape

from dashboards.formatting import MISSING, currency_symbol, format_count, format_money, format_ratio
from dashboards.page_settings import DashboardSettings
from metrics import Metric, default_registry


def metric(metric_id: str) -> Metric:
    return default_registry()[metric_id]


def metric_name(metric_id: str, language: str) -> str:
    return metric(metric_id).name[language]


def metric_definition(metric_id: str, language: str) -> str:
    return metric(metric_id).definition[language]


def unit_suffix(metric_id: str, settings: DashboardSettings) -> str:
    """The unit as a heading suffix, e.g. "(¥)", "(%)" or "(×)"; empty for counts of people."""
    unit = metric(metric_id).unit
    if unit == "money":
        return f" ({currency_symbol(settings.currency).strip()})"
    if unit == "share":
        return " (%)"
    if unit == "ratio":
        return " (×)"
    if unit == "months":
        return " (月)" if settings.language == "zh" else " (months)"
    return ""


def metric_header(metric_id: str, settings: DashboardSettings) -> str:
    """Column or axis title: the metric's name and unit."""
    return f"{metric_name(metric_id, settings.language)}{unit_suffix(metric_id, settings)}"


def format_value(metric_id: str, value: float | None, settings: DashboardSettings) -> str:
    """A value in the metric's unit."""
    unit = metric(metric_id).unit
    if value is None or value != value:
        return MISSING
    if unit == "money":
        return format_money(value, settings.currency)
    if unit == "share":
        return f"{value:.1%}"
    if unit == "ratio":
        return format_ratio(value)
    if unit == "months":
        return _months_text(int(value), settings.language)
    if unit == "transactions":
        return f"{value:,.2f}"
    return format_count(value)


def _months_text(months: int, language: str) -> str:
    if months == 0:
        return "注册当月" if language == "zh" else "sign-up month"
    return f"第 {months} 个月" if language == "zh" else f"month {months}"


def window_text(metric_id: str, settings: DashboardSettings, start: date | str | None = None,
                end: date | None = None, previous_start: date | None = None, previous_end: date | None = None,
                window: str | None = None) -> str:
    """The window of a metric's figure, in words (dates default to the data's window).

    `window` names another window of the registry when a page shows the metric at one point of its series
    (e.g. lifecycle stages at the as-of date rather than at every month end).
    """
    registry = default_registry()
    fields = {
        "start": _iso(start or settings.data_from), "end": _iso(end or settings.as_of),
        "previous_start": _iso(previous_start), "previous_end": _iso(previous_end),
        "horizon": settings.clv_horizon_days,
    }
    return registry.window_text(window or metric(metric_id).window, settings.language, **fields)


def _iso(day: date | str | None) -> str:
    if day is None:
        return "?"
    return day if isinstance(day, str) else day.isoformat()


def data_attributes(metric_id: str, value: float | None) -> str:
    """`data-metric` and `data-value` attributes (the value unformatted, empty when missing)."""
    shown = "" if value is None or value != value else repr(float(value))
    return f' data-metric="{escape(metric_id)}" data-value="{shown}"'


def cell(metric_id: str, value: float | None, settings: DashboardSettings) -> tuple[str, str]:
    """A table cell: its text and the attributes that let a test read the value back."""
    return format_value(metric_id, value, settings), data_attributes(metric_id, value)


def definitions_html(metric_ids: list[str] | tuple[str, ...], settings: DashboardSettings, summary: str) -> str:
    """A folded list "Name: definition" of the metrics of a table or a group of tiles, from the registry."""
    lang = settings.language
    separator = "：" if lang == "zh" else ": "
    items = "".join(f"<li><b>{escape(metric_name(m, lang))}</b>{separator}{escape(metric_definition(m, lang))}</li>"
                    for m in metric_ids)
    return f"<details><summary>{escape(summary)}</summary><ul>{items}</ul></details>"
