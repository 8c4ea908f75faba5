"""Dashboard configuration shared by every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SUPPORTED_LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class DashboardSettings:
    """How dashboards are rendered.

    Attributes:
        language: "en" or "zh"; every visible label exists in both.
        min_group_size: groups (cohorts, channels, segments …) smaller than this are never shown.
        currency: ISO-4217 code of the data's money, used for symbols and axis prefixes.
        title: product title shown in every page header.
        targets: monthly targets by headline metric id, as pairs (see ``dashboards.targets``).
        as_of: the analysis date (the end of every window a page states); None when unknown.
        data_from: the first day the activity data covers (time charts start there); None when unknown.
        clv_horizon_days: the lifetime-value horizon, for the CLV figures' window.
    """

    language: str = "en"
    min_group_size: int = 10
    currency: str = "CNY"
    title: str = "fingrowth"
    targets: tuple[tuple[str, float], ...] = ()
    as_of: date | None = None
    data_from: date | None = None
    clv_horizon_days: int = 365

    def __post_init__(self) -> None:
        if self.language not in SUPPORTED_LANGUAGES:
            raise ValueError(f"language must be one of {SUPPORTED_LANGUAGES}, got {self.language!r}")
        if self.min_group_size < 1:
            raise ValueError(f"min_group_size must be at least 1, got {self.min_group_size}")
