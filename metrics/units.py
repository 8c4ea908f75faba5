"""Money and units as readers see them: currency symbols and how each unit of the registry is written."""

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


def is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def money_text(value: float | None, currency: str) -> str:
    """Money with the currency symbol; cents only for small amounts, where they matter."""
    if is_missing(value):
        return MISSING
    sign = "-" if value < 0 else ""
    digits = ",.2f" if abs(value) < 1000 else ",.0f"
    return f"{sign}{currency_symbol(currency)}{abs(value):{digits}}"


def share_text(value: float | None, decimals: int = 1) -> str:
    """A share as a percentage."""
    return MISSING if is_missing(value) else f"{value:.{decimals}%}"


def number_text(value: float | None) -> str:
    """A plain number: whole numbers with separators, small ones with three significant digits."""
    if is_missing(value):
        return MISSING
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"
