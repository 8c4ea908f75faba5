"""Number and money formatting for tiles, tables and chart axes."""

from __future__ import annotations

import math

CURRENCY_SYMBOLS: dict[str, str] = {
    "CNY": "¥",
    "RMB": "¥",
    "JPY": "¥",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "HKD": "HK$",
    "SGD": "S$",
    "AUD": "A$",
    "CAD": "C$",
    "KRW": "₩",
    "INR": "₹",
}

MISSING = "—"


def currency_symbol(currency: str) -> str:
    """Symbol to prefix money with; unknown codes fall back to the code and a space."""
    return CURRENCY_SYMBOLS.get(currency.upper(), f"{currency.upper()} ")


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def format_money(value: float | None, currency: str) -> str:
    """Money with the currency symbol; cents only for small amounts, where they matter."""
    if _is_missing(value):
        return MISSING
    sign = "-" if value < 0 else ""
    digits = ",.2f" if abs(value) < 1000 else ",.0f"
    return f"{sign}{currency_symbol(currency)}{abs(value):{digits}}"


def format_count(value: float | None) -> str:
    """People counts; averages keep one decimal."""
    if _is_missing(value):
        return MISSING
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


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
