"""Small seeded marts in the shapes the dashboards read, with some groups below the minimum size."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

SMALL_COHORT = "2026-06"
SMALL_CHANNEL = "tiny_channel"
SMALL_STAGE = "reactivated"
SMALL_PERSONA = "Tiny niche"


AS_OF = date(2026, 10, 30)


def kpi_daily(days: int = 60, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = date(2026, 9, 1)
    active = rng.integers(800, 1200, days)
    new_users = rng.integers(40, 90, days)
    return pl.DataFrame(
        {
            "date": [start + timedelta(days=offset) for offset in range(days)],
            "new_users": new_users,
            "new_customers": (new_users * 0.6).astype(np.int64),
            "activated_7d": [int(n * 0.5) if day < days - 6 else None for day, n in enumerate(new_users)],
            "active_users": active,
            "transacting_users": (active * rng.uniform(0.2, 0.4, days)).astype(np.int64),
            "transactions": (active * 0.5).astype(np.int64),
            "txn_amount": rng.uniform(200_000, 400_000, days).round(2),
            "revenue": rng.uniform(4_000, 9_000, days).round(2),
            "spend": rng.uniform(3_000, 6_000, days).round(2),
        },
        schema_overrides={"new_users": pl.Int64, "active_users": pl.Int64, "transacting_users": pl.Int64,
                          "activated_7d": pl.Int64},
    )


# (metric, current, previous) of the synthetic headline; dates of the month to date at AS_OF.
HEADLINE = {
    "new_users": (1800.0, 1700.0), "new_customers": (1080.0, 1100.0), "activation_rate": (0.52, 0.5),
    "active_users": (9000.0, 8800.0), "transacting_users": (3000.0, 2900.0), "month1_retention": (0.41, 0.44),
    "txn_amount": (9e6, 8.5e6), "revenue": (190_000.0, 180_000.0), "spend": (130_000.0, 120_000.0),
    "cac": (130_000.0 / 1080, 120_000.0 / 1100), "ltv": (900.0, 880.0),
    "ltv_to_cac": (900.0 / (130_000.0 / 1080), 880.0 / (120_000.0 / 1100)),
}


def metric_values(headline: dict[str, tuple[float | None, float | None]] | None = None) -> pl.DataFrame:
    """The headline mart at AS_OF (October 1–30 against September 1–30), September fully in the data."""
    rows = []
    for metric_id, (current, previous) in (headline or HEADLINE).items():
        cohort = metric_id == "month1_retention"
        rows.append((metric_id, "current", date(2026, 8, 1) if cohort else date(2026, 10, 1),
                     date(2026, 9, 30) if cohort else AS_OF, current, True, 30 / 31))
        rows.append((metric_id, "previous", date(2026, 7, 1) if cohort else date(2026, 9, 1),
                     date(2026, 8, 31) if cohort else date(2026, 9, 30), previous, True, 1.0))
    return pl.DataFrame(rows, schema={"metric": pl.String, "period": pl.String, "period_start": pl.Date,
                                      "period_end": pl.Date, "value": pl.Float64, "complete": pl.Boolean,
                                      "month_share": pl.Float64}, orient="row")


def cohort_retention() -> pl.DataFrame:
    cohorts = {"2026-04": 120, "2026-05": 95, SMALL_COHORT: 6, "2026-07": 80, "2026-08": 60}
    rows = []
    for index, (cohort, users) in enumerate(cohorts.items()):
        for period in range(len(cohorts) - index):
            retained = users if period == 0 else int(users * 0.6 / period)
            rows.append((cohort, period, users, retained, retained / users, period < len(cohorts) - index - 1))
    return pl.DataFrame(
        rows,
        schema={"cohort": pl.String, "period": pl.Int64, "users": pl.Int64, "retained": pl.Int64,
                "retention_rate": pl.Float64, "period_complete": pl.Boolean},
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
            "credit_funnel_stage": [["registered", "kyc_passed", "drawn", "repaying", "applied"][i % 5]
                                    for i in range(users)],
            "wealth_funnel_stage": [["registered", "registered", "risk_assessed", "first_purchase", "repeat_purchase"]
                                    [i % 5] for i in range(users)],
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


PERSONA_NAMES_ZH = {"Young savers": "年轻储蓄者", "Credit revolvers": "循环信贷用户", "Affluent investors": "富裕投资者",
                    SMALL_PERSONA: "小众画像"}


def persona() -> pl.DataFrame:
    names = ["Young savers", "Credit revolvers", "Affluent investors", SMALL_PERSONA]
    users = [90, 60, 44, 6]
    total = sum(users)
    return pl.DataFrame(
        {
            "persona_id": [1, 2, 3, 4],
            "persona_name": names,
            "persona_name_zh": [PERSONA_NAMES_ZH[name] for name in names],
            "description": [f"{name}: synthetic persona" for name in names],
            "description_zh": [f"{PERSONA_NAMES_ZH[name]}：合成画像" for name in names],
            "users": users,
            "share": [count / total for count in users],
            "never_bought_share": [0.0, 0.1, 0.0, 0.5],
        },
        schema_overrides={"users": pl.Int64},
    )


def persona_k_evidence() -> pl.DataFrame:
    return pl.DataFrame({"k": [3, 4, 5, 6], "silhouette": [0.31, 0.38, 0.35, 0.30], "stability": [0.9, 0.95, 0.8, 0.7],
                         "chosen": [False, True, False, False]})


def user_segment(users: int = 200) -> pl.DataFrame:
    names = ["Young savers", "Credit revolvers", "Affluent investors", SMALL_PERSONA]
    segments = ["Champions", "Loyal", "At risk", "Lost"]
    return pl.DataFrame({
        "user_id": [f"u{i:04d}" for i in range(users)],
        "persona_id": [1 + (i % 3) if i % 40 else 4 for i in range(users)],
        "persona_name": [names[i % 3] if i % 40 else names[3] for i in range(users)],
        "rfm_segment": [segments[(i // 3) % 4] for i in range(users)],
    })


def lifecycle_counts() -> pl.DataFrame:
    rows = []
    for month, day in ((1, 31), (2, 28), (3, 31), (4, 30)):
        for stage, users in (("new", 40 - 5 * month), ("active", 60 + month), ("at_risk", 12), ("churned", 3 * month + 8)):
            rows.append((date(2026, month, day), stage, users))
    return pl.DataFrame(rows, schema={"snapshot_date": pl.Date, "lifecycle_stage": pl.String, "users": pl.Int64},
                        orient="row")


def clv_holdout_tracking() -> pl.DataFrame:
    weeks = list(range(1, 40))
    actual = [1000 + sum(10 + (w % 5) for w in range(1, week + 1)) for week in weeks]
    holdout = [a - 1000 for a in actual]
    return pl.DataFrame({"week": weeks, "actual_cumulative": actual,
                         "predicted_cumulative": [1000 + h * 0.9 for h in holdout], "actual_holdout": holdout,
                         "predicted_holdout": [h * 0.9 for h in holdout], "model": ["bg_nbd"] * len(weeks)})


def clv_holdout_by_frequency() -> pl.DataFrame:
    return pl.DataFrame({"frequency_bucket": ["0", "1", "2", "3+", "7+"], "users": [900, 300, 120, 60, 4],
                         "actual_mean": [0.2, 0.9, 1.6, 3.0, 6.0], "predicted_mean": [0.25, 0.85, 1.5, 2.8, 5.5],
                         "model": ["bg_nbd"] * 5})


def value_by_group() -> pl.DataFrame:
    return pl.DataFrame({
        "grouping": ["acquisition_channel"] * 3 + ["persona_name"] * 2,
        "group": ["app_store", "search_ads", "tiny_channel", "Young savers", "Credit revolvers"],
        "users": [120, 70, 5, 90, 60],
        "mean_clv": [500.0, 820.0, 50.0, 300.0, 900.0],
        "mean_risk_adjusted_clv": [480.0, 700.0, 40.0, 299.0, 610.0],
    })


def clv_model() -> pl.DataFrame:
    return pl.DataFrame({
        "model": ["bg_nbd"] * 4 + ["gamma_gamma"] * 3,
        "parameter": ["r", "alpha", "a", "b", "p", "q", "v"],
        "value": [0.243, 4.414, 0.793, 2.426, 6.25, 3.74, 15.44],
        "log_likelihood": [-9582.4] * 4 + [-4055.9] * 3,
        "customers": [2357] * 4 + [946] * 3,
        "chosen": [True] * 7,
    })


def channel_payback() -> pl.DataFrame:
    rows = []
    for channel, cost, per_month, users in (("search", 300.0, 80.0, 120), ("social", 250.0, 30.0, 60),
                                            (SMALL_CHANNEL, 100.0, 50.0, 3)):
        for month in range(6):
            cumulative = per_month * (month + 1)
            rows.append((channel, month, users - month, per_month, cumulative, cost, cumulative / cost))
    return pl.DataFrame(rows, schema={"acquisition_channel": pl.String, "month": pl.Int64, "users": pl.Int64,
                                      "revenue_per_user": pl.Float64, "cumulative_revenue_per_user": pl.Float64,
                                      "spend_per_signup": pl.Float64, "recovered": pl.Float64}, orient="row")


def channel_quality() -> pl.DataFrame:
    rows = [
        ("search", "all", 120, 0.9, 0.7, 40, 0.05, 36000.0, 300.0, 900.0, 850.0, 3.0, 2.4, 3),
        ("social", "all", 60, 0.7, 0.4, 20, 0.15, 15000.0, 250.0, 400.0, 300.0, 1.6, 0.2, None),
        (SMALL_CHANNEL, "all", 3, 1.0, 1.0, 1, 0.0, 300.0, 100.0, 500.0, 500.0, 5.0, 4.0, 1),
        ("search", "2026-01", 70, 0.9, 0.7, 25, 0.04, 20000.0, 285.7, 950.0, 900.0, 3.3, 2.2, None),
    ]
    schema = ["acquisition_channel", "cohort", "users", "kyc_pass_rate", "first_txn_rate", "borrowers", "default_rate",
              "spend", "spend_per_signup", "mean_clv", "mean_risk_adjusted_clv", "clv_to_spend", "risk_adjusted_return",
              "payback_months"]
    return pl.DataFrame(rows, schema=schema, orient="row")


def segment_movement() -> pl.DataFrame:
    rows = [("persona", date(2026, 3, 31), date(2026, 4, 30), a, b, n) for a, b, n in (
        ("Young savers", "Young savers", 80), ("Young savers", "Credit revolvers", 12),
        ("Credit revolvers", "Credit revolvers", 50), ("Credit revolvers", "Young savers", 3))]
    rows.append(("persona", date(2026, 2, 28), date(2026, 3, 31), "Young savers", "Young savers", 70))
    rows.append(("rfm", date(2026, 3, 31), date(2026, 4, 30), "Champions", "Loyal", 30))
    return pl.DataFrame(rows, schema=["dimension", "from_as_of", "to_as_of", "from_segment", "to_segment", "users"],
                        orient="row")


LAUNCHED_CAMPAIGN = "spring_wealth"
SMALL_CAMPAIGN = "tiny_pilot"
# Launched campaign: step, remaining, excluded here, failing (CN-FREQ-02 excluded nobody but is a rule).
SPRING_FUNNEL = [("audience", 400, 0, 0), ("CN-EM-01", 300, 100, 100), ("CN-EM-04", 288, 12, 15),
                 ("CN-PI-02", 288, 0, 40), ("CN-SUIT-01", 250, 38, 60), ("CN-FREQ-02", 250, 0, 0),
                 ("holdout", 225, 25, 25)]


def campaign_funnel() -> pl.DataFrame:
    rows = [(LAUNCHED_CAMPAIGN, "launch", *step) for step in SPRING_FUNNEL]
    rows += [(SMALL_CAMPAIGN, "dry_run", *step) for step in (("audience", 6, 0, 0), ("CN-EM-01", 4, 2, 2),
                                                             ("holdout", 4, 0, 0))]
    return pl.DataFrame(rows, schema={"campaign_id": pl.String, "source": pl.String, "step": pl.String,
                                      "remaining": pl.Int64, "excluded": pl.Int64, "failing": pl.Int64}, orient="row")


def campaign_results() -> pl.DataFrame:
    columns = ["campaign_id", "source", "audience", "send", "holdout", "excluded", "recipients_sent", "delivered",
               "open", "click", "bounce", "unsubscribe"]
    rows = [(LAUNCHED_CAMPAIGN, "launch", 400, 225, 25, 150, 225, 220, 90, 31, 5, 12),
            (SMALL_CAMPAIGN, "dry_run", 6, 4, 0, 2, 0, 0, 0, 0, 0, 0)]
    return pl.DataFrame(rows, schema={c: (pl.String if c in ("campaign_id", "source") else pl.Int64) for c in columns},
                        orient="row")


def campaign_lift() -> pl.DataFrame:
    treated, treated_conv, holdout, holdout_conv = 225, 40, 25, 2
    p1, p0 = treated_conv / treated, holdout_conv / holdout
    se = (p1 * (1 - p1) / treated + p0 * (1 - p0) / holdout) ** 0.5
    return pl.DataFrame({
        "campaign_id": [LAUNCHED_CAMPAIGN], "treated_users": [treated], "treated_converted": [treated_conv],
        "holdout_users": [holdout], "holdout_converted": [holdout_conv], "treated_rate": [p1], "holdout_rate": [p0],
        "lift": [p1 - p0], "lift_low": [p1 - p0 - 1.96 * se], "lift_high": [p1 - p0 + 1.96 * se],
        "relative_lift": [p1 / p0 - 1], "window_days": [30], "window_complete": [True],
    })


def dry_run_only_campaign_marts() -> dict[str, pl.DataFrame]:
    """The campaign page's inputs before any launch: the analytics run's dry run only."""
    funnel = campaign_funnel().filter(pl.col("campaign_id") == LAUNCHED_CAMPAIGN).with_columns(
        pl.lit("dry_run").alias("source"))
    results = campaign_results().filter(pl.col("campaign_id") == LAUNCHED_CAMPAIGN).with_columns(
        pl.lit("dry_run").alias("source"), *(pl.lit(0, pl.Int64).alias(c) for c in (
            "recipients_sent", "delivered", "open", "click", "bounce", "unsubscribe")))
    return {"campaign_funnel": funnel, "campaign_results": results, "campaign_lift": campaign_lift().clear()}


def all_marts() -> dict[str, pl.DataFrame]:
    retention = cohort_retention()
    first_transaction = retention.with_columns(
        pl.lit("first_transaction").alias("cohort_basis"),
        (pl.col("retention_rate") * 1.1).alias("revenue_retention"))
    return {
        "cohort_retention": pl.concat([
            retention.with_columns(pl.lit("signup").alias("cohort_basis"), pl.col("retention_rate").alias("revenue_retention")),
            first_transaction,
        ]),
        "persona_k_evidence": persona_k_evidence(),
        "user_segment": user_segment(),
        "lifecycle_counts": lifecycle_counts(),
        "clv_holdout_tracking": clv_holdout_tracking(),
        "clv_holdout_by_frequency": clv_holdout_by_frequency(),
        "value_by_group": value_by_group(),
        "clv_model": clv_model(),
        "channel_payback": channel_payback(),
        "segment_movement": segment_movement(),
        "channel_quality": channel_quality(),
        "kpi_daily": kpi_daily(),
        "metric_values": metric_values(),
        "channel_roi": channel_roi(),
        "user_profile": user_profile(),
        "user_clv": user_clv(),
        "persona": persona(),
        "campaign_funnel": campaign_funnel(),
        "campaign_results": campaign_results(),
        "campaign_lift": campaign_lift(),
    }
