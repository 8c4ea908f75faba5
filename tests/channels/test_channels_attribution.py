import numpy as np
import polars as pl
import pytest

from channels import (
    ATTRIBUTION_MODELS,
    DIRECT_CHANNEL,
    assign_credit,
    attribute,
    attribute_all,
    build_journeys,
)
from tests.channels.channels_frames import TS, scenario_conversions, scenario_touchpoints

# (conversions, revenue) per channel for the hand-made scenario in channels_frames.
EXPECTED = {
    "first_touch": {
        "search": (1.0, 100.0),
        "social": (1.0, 50.0),
        "email": (1.0, 20.0),
        DIRECT_CHANNEL: (1.0, 30.0),
    },
    "last_touch": {
        "search": (0.0, 0.0),
        "social": (1.0, 50.0),
        "email": (2.0, 120.0),
        DIRECT_CHANNEL: (1.0, 30.0),
    },
    "linear": {
        "search": (1 / 3, 100 / 3),
        "social": (4 / 3, 100 / 3 + 50),
        "email": (4 / 3, 100 / 3 + 20),
        DIRECT_CHANNEL: (1.0, 30.0),
    },
}


@pytest.fixture
def journeys() -> pl.DataFrame:
    return build_journeys(scenario_touchpoints(), scenario_conversions())


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_hand_made_journeys_get_exact_credit(journeys: pl.DataFrame, model: str) -> None:
    result = attribute(journeys, model)
    assert result.schema == pl.Schema(
        {
            "channel": pl.String,
            "attribution_model": pl.String,
            "conversions": pl.Float64,
            "revenue": pl.Float64,
        }
    )
    assert set(result["attribution_model"]) == {model}
    got = {channel: (conv, rev) for channel, _, conv, rev in result.iter_rows()}
    assert got.keys() == EXPECTED[model].keys()
    for channel, (conv, rev) in EXPECTED[model].items():
        assert got[channel] == (pytest.approx(conv, abs=1e-12), pytest.approx(rev, abs=1e-9))


def test_attribute_all_stacks_every_registered_model(journeys: pl.DataFrame) -> None:
    stacked = attribute_all(journeys)
    assert set(stacked["attribution_model"]) == set(ATTRIBUTION_MODELS)
    assert stacked.height == 4 * len(ATTRIBUTION_MODELS)


def test_unknown_model_is_rejected(journeys: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown attribution model"):
        attribute(journeys, "markov")


def _random_journeys(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n_touches, n_users = 4_000, 600
    base = np.datetime64("2024-01-01T00:00:00", "us")
    touchpoints = pl.DataFrame(
        {
            "touchpoint_id": [f"t{i}" for i in range(n_touches)],
            "user_id": [f"u{i}" for i in rng.integers(0, n_users, n_touches)],
            "occurred_at": base + rng.integers(0, 90 * 86_400, n_touches) * np.timedelta64(1, "s"),
            "channel": rng.choice(["search", "social", "email", "display", "affiliate"], n_touches),
            "touch_type": rng.choice(["click", "impression"], n_touches),
        }
    ).with_columns(pl.col("occurred_at").dt.replace_time_zone("UTC"))
    converting = rng.choice(n_users, 400, replace=False)
    conversions = pl.DataFrame(
        {
            "user_id": [f"u{i}" for i in converting],
            "converted_at": base + rng.integers(0, 90 * 86_400, 400) * np.timedelta64(1, "s"),
            "conversion_value": rng.gamma(2.0, 50.0, 400),
        }
    ).with_columns(pl.col("converted_at").dt.replace_time_zone("UTC").cast(TS))
    return build_journeys(touchpoints, conversions, lookback_days=30)


@pytest.mark.parametrize("model", sorted(ATTRIBUTION_MODELS))
def test_credit_sums_to_one_per_conversion_and_totals_reconcile(model: str) -> None:
    journeys = _random_journeys(seed=7)
    n_conversions = journeys["conversion_id"].n_unique()
    total_value = journeys.unique("conversion_id")["conversion_value"].sum()
    assert n_conversions == 400
    assert journeys["touches"].max() > 1  # the data really has multi-touch journeys

    credited = assign_credit(journeys, model)
    per_conversion = credited.group_by("conversion_id").agg(pl.col("credit").sum())
    assert per_conversion["credit"].to_numpy() == pytest.approx(np.ones(n_conversions), abs=1e-12)
    assert credited["credit"].min() >= 0.0

    result = attribute(journeys, model)
    assert result["conversions"].sum() == pytest.approx(n_conversions, abs=1e-9)
    assert result["revenue"].sum() == pytest.approx(total_value, rel=1e-12)
