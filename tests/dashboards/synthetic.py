"""Small seeded marts in the shapes the dashboards read, with some groups below the minimum size."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

SMALL_COHORT = "2026-06"
SMALL_CHANNEL = "tiny_channel"
SMALL_STAGE = "reactivated"
SMALL_PERSONA = "Tiny niche"


def kpi_daily(days: int = 60, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = date(2026, 9, 1)
    active = rng.integers(800, 1200, days)
    return pl.DataFrame(
        {
            "date": [start + timedelta(days=offset) for offset in range(days)],
            "new_users": rng.integers(40, 90, days),
            "active_users": active,
            "transacting_users": (active * rng.uniform(0.2, 0.4, days)).astype(np.int64),
            "txn_amount": rng.uniform(200_000, 400_000, days).round(2),
            "revenue": rng.uniform(4_000, 9_000, days).round(2),
            "spend": rng.uniform(3_000, 6_000, days).round(2),
        },
        schema_overrides={"new_users": pl.Int64, "active_users": pl.Int64, "transacting_users": pl.Int64},
    )


def cohort_retention() -> pl.DataFrame:
    cohorts = {"2026-04": 120, "2026-05": 95, SMALL_COHORT: 6, "2026-07": 80, "2026-08": 60}
    rows = []
    for index, (cohort, users) in enumerate(cohorts.items()):
        for period in range(len(cohorts) - index):
            retained = users if period == 0 else int(users * 0.6 / period)
            rows.append((cohort, period, users, retained, retained / users))
    return pl.DataFrame(
        rows,
        schema={"cohort": pl.String, "period": pl.Int64, "users": pl.Int64, "retained": pl.Int64,
                "retention_rate": pl.Float64},
        orient="row",
    )


def channel_roi() -> pl.DataFrame:
    channels = ["search", "social", "referral", SMALL_CHANNEL]
    conversions = [120.5, 64.0, 33.25, 3.0]
    rows = []
    for model, factor in (("last_touch", 1.0), ("linear", 0.9)):
        for channel, conv in zip(channels, conversions, strict=True):
            spend = conv * 300.0
            revenue = conv * 420.0 * factor
            ltv = 900.0
            rows.append((channel, model, spend, conv * factor, revenue, spend / conv, revenue / spend, ltv,
                         ltv / (spend / conv)))
    return pl.DataFrame(
        rows,
        schema=["channel", "attribution_model", "spend", "conversions", "revenue", "cac", "roas", "ltv",
                "ltv_to_cac"],
        orient="row",
    )


def user_profile(users: int = 200) -> pl.DataFrame:
    stages = ["new"] * 50 + ["active"] * 80 + ["at_risk"] * 30 + ["dormant"] * 20 + ["churned"] * 16
    stages += [SMALL_STAGE] * (users - len(stages))
    return pl.DataFrame(
        {
            "user_id": [f"u{index:04d}" for index in range(users)],
            "lifecycle_stage": stages,
            "acquisition_channel": ["search", "social"] * (users // 2),
            "total_amount": np.linspace(100.0, 20_000.0, users),
            "total_revenue": np.linspace(1.0, 300.0, users),
        }
    )


def user_clv(users: int = 200) -> pl.DataFrame:
    rng = np.random.default_rng(2)
    return pl.DataFrame(
        {
            "user_id": [f"u{index:04d}" for index in range(users)],
            "p_alive": rng.uniform(0, 1, users),
            "expected_txns": rng.uniform(0, 5, users),
            "expected_value": rng.uniform(50, 500, users),
            "clv": rng.uniform(100, 2_000, users),
            "horizon_days": [365] * users,
        }
    )


def persona() -> pl.DataFrame:
    names = ["Young savers", "Credit revolvers", "Affluent investors", SMALL_PERSONA]
    users = [90, 60, 44, 6]
    total = sum(users)
    return pl.DataFrame(
        {
            "persona_id": [1, 2, 3, 4],
            "persona_name": names,
            "description": [f"{name}: synthetic persona" for name in names],
            "users": users,
            "share": [count / total for count in users],
        },
        schema_overrides={"users": pl.Int64},
    )


def all_marts() -> dict[str, pl.DataFrame]:
    return {
        "kpi_daily": kpi_daily(),
        "cohort_retention": cohort_retention(),
        "channel_roi": channel_roi(),
        "user_profile": user_profile(),
        "user_clv": user_clv(),
        "persona": persona(),
    }
