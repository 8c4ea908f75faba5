"""Smoke run at scale: prints wall times, asserts only correctness (never timing)."""

import time

import numpy as np
import polars as pl
import pytest

from channels import ATTRIBUTION_MODELS, attribute_all, build_journeys, channel_roi

N_TOUCHPOINTS = 5_000_000
N_USERS = 1_000_000
N_CONVERSIONS = 200_000
CHANNELS = ["search", "social", "email", "display", "affiliate", "app_store", "referral", "sms"]


def _synthetic(seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    base = np.datetime64("2024-01-01T00:00:00", "us")
    seconds = 90 * 86_400
    touchpoints = pl.DataFrame(
        {
            "touchpoint_id": np.arange(N_TOUCHPOINTS),
            "user_id": rng.integers(0, N_USERS, N_TOUCHPOINTS),
            "occurred_at": base + rng.integers(0, seconds, N_TOUCHPOINTS) * np.timedelta64(1, "s"),
            "channel": rng.integers(0, len(CHANNELS), N_TOUCHPOINTS),
            "touch_type": rng.integers(0, 2, N_TOUCHPOINTS),
        }
    ).with_columns(
        pl.format("t{}", "touchpoint_id").alias("touchpoint_id"),
        pl.format("u{}", "user_id").alias("user_id"),
        pl.col("occurred_at").dt.replace_time_zone("UTC"),
        pl.col("channel").replace_strict(dict(enumerate(CHANNELS)), return_dtype=pl.String),
        pl.when(pl.col("touch_type") == 0).then(pl.lit("click")).otherwise(pl.lit("impression")),
    )
    converting = rng.choice(N_USERS, N_CONVERSIONS, replace=False)
    conversions = pl.DataFrame(
        {
            "user_id": converting,
            "converted_at": base + rng.integers(0, seconds, N_CONVERSIONS) * np.timedelta64(1, "s"),
            "conversion_value": rng.gamma(2.0, 50.0, N_CONVERSIONS),
        }
    ).with_columns(
        pl.format("u{}", "user_id").alias("user_id"),
        pl.col("converted_at").dt.replace_time_zone("UTC"),
    )
    spend = pl.DataFrame({"channel": CHANNELS, "spend": rng.uniform(1e4, 1e6, len(CHANNELS))})
    user_value = conversions.select("user_id", pl.col("conversion_value").mul(3.0).alias("clv"))
    return touchpoints, conversions, spend, user_value


def test_five_million_touchpoints_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    touchpoints, conversions, spend, user_value = _synthetic(seed=11)

    started = time.perf_counter()
    journeys = build_journeys(touchpoints, conversions, lookback_days=30)
    built = time.perf_counter()
    attributed = attribute_all(journeys)
    attributed_at = time.perf_counter()
    roi = channel_roi(attributed, spend, user_value, journeys)
    finished = time.perf_counter()

    with capsys.disabled():
        print(
            f"\nchannels smoke: {N_TOUCHPOINTS:,} touchpoints, {N_CONVERSIONS:,} conversions -> "
            f"{journeys.height:,} journey rows | build_journeys {built - started:.2f}s, "
            f"attribute_all {attributed_at - built:.2f}s, "
            f"channel_roi {finished - attributed_at:.2f}s, "
            f"total {finished - started:.2f}s"
        )

    assert journeys["conversion_id"].n_unique() == N_CONVERSIONS
    models = len(ATTRIBUTION_MODELS)
    assert roi.height == (len(CHANNELS) + 1) * models
    per_model = roi.group_by("attribution_model").agg(pl.col("conversions").sum())
    assert per_model["conversions"].to_numpy() == pytest.approx(np.full(models, N_CONVERSIONS), rel=1e-9)
