"""Dashboard configuration shared by every page."""

from __future__ import annotations

from dataclasses import dataclass

SUPPORTED_LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class DashboardSettings:
    """How dashboards are rendered.

    Attributes:
        language: "en" or "zh"; every visible label exists in both.
        min_group_size: groups (cohorts, channels, segments …) smaller than this are never shown.
        currency: ISO-4217 code of the data's money, used for symbols and axis prefixes.
        title: product title shown in every page header.
        targets: 30-day targets by KPI key, as pairs (see ``dashboards.targets``).
    """

    language: str = "en"
    min_group_size: int = 10
    currency: str = "CNY"
    title: str = "fingrowth"
    targets: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.language not in SUPPORTED_LANGUAGES:
            raise ValueError(f"language must be one of {SUPPORTED_LANGUAGES}, got {self.language!r}")
        if self.min_group_size < 1:
            raise ValueError(f"min_group_size must be at least 1, got {self.min_group_size}")
