"""Number and money formatting for tiles, tables and chart axes."""

from __future__ import annotations

import math

from metrics.units import CURRENCY_SYMBOLS, MISSING, currency_symbol, money_text
from metrics.units import is_missing as _is_missing

__all__ = ["CURRENCY_SYMBOLS", "MISSING", "currency_symbol", "format_change", "format_count", "format_money",
           "format_ratio", "money_axis"]


def format_money(value: float | None, currency: str) -> str:
    """Money with the currency symbol; cents only for small amounts, where they matter."""
    return money_text(value, currency)


def format_count(value: float | None) -> str:
    """People counts, in whole people (attributed credit, which can be fractional, is rounded too)."""
    if _is_missing(value):
        return MISSING
    return f"{round(value):,}"


def format_ratio(value: float | None) -> str:
    """A ratio such as LTV:CAC, shown as a multiple."""
    return MISSING if _is_missing(value) else f"{value:,.2f}×"


def format_change(value: float | None) -> str:
    """A relative change with an explicit sign."""
    return MISSING if _is_missing(value) else f"{value:+.1%}"


def money_axis(currency: str, largest_value: float | None = None) -> dict[str, str]:
    """Plotly axis settings that show money in ``currency``.

    Ticks are whole units unless every value is small; an explicit format also stops plotly.js from
    printing synced secondary-axis ticks with a dozen decimals.
    """
    small = largest_value is not None and math.isfinite(largest_value) and abs(largest_value) < 10
    return {
        "tickprefix": currency_symbol(currency),
        "tickformat": ",.2f" if small else ",.0f",
        "hoverformat": ",.2f",
    }
