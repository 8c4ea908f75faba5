from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from channels import (
    ATTRIBUTION_MODELS,
    DIRECT_CHANNEL,
    attribute_all,
    build_journeys,
    channel_daily_spend,
    channel_roi,
)
from tests.channels.channels_frames import scenario_conversions, scenario_touchpoints


def _spend() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "date": [date(2024, 3, 1), date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 1),
                     date(2024, 3, 1), date(2024, 3, 3)],
            "channel": ["search", "search", "search", "social", "email", "display"],
            "campaign": ["brand", "generic", "brand", "spring", "newsletter", "banner"],
            "spend": ["60.00", "40.00", "200.00", "200.00", "0.00", "50.00"],
            "impressions": [1000, 500, 2000, 3000, 0, 800],
            "clicks": [10, 5, 20, 30, 0, 8],
        },
        schema_overrides={"spend": pl.Decimal(18, 2)},
    )


def _user_value() -> pl.DataFrame:
    # u5 has no clv: it must be left out of the weighted mean, not counted as zero.
    return pl.DataFrame({"user_id": ["u1", "u2", "u3"], "clv": [400.0, 100.0, 60.0]})


@pytest.fixture
def roi() -> pl.DataFrame:
    journeys = build_journeys(scenario_touchpoints(), scenario_conversions())
    return channel_roi(attribute_all(journeys), _spend(), _user_value(), journeys)


def _row(roi: pl.DataFrame, model: str, channel: str) -> dict:
    rows = roi.filter((pl.col("attribution_model") == model) & (pl.col("channel") == channel))
    assert rows.height == 1
    return rows.row(0, named=True)


def test_schema_and_grain(roi: pl.DataFrame) -> None:
    assert roi.columns == [
        "channel", "attribution_model", "spend", "conversions", "revenue",
        "cac", "roas", "ltv", "ltv_to_cac",
    ]
    assert all(roi.schema[name] == pl.Float64 for name in roi.columns[2:])
    assert roi.select("channel", "attribution_model").is_unique().all()
    # display spent but has no touch; it still shows up under every model.
    assert roi.height == 5 * len(ATTRIBUTION_MODELS)


def test_last_touch_arithmetic_and_null_rules(roi: pl.DataFrame) -> None:
    social = _row(roi, "last_touch", "social")
    assert social == {
        "channel": "social", "attribution_model": "last_touch", "spend": 200.0,
        "conversions": 1.0, "revenue": 50.0, "cac": 200.0, "roas": 0.25,
        "ltv": 100.0, "ltv_to_cac": 0.5,
    }
    email = _row(roi, "last_touch", "email")
    # Zero spend: no acquisition cost to state (not a cost of 0), roas and ltv_to_cac undefined; u5 (no clv) is
    # left out of ltv.
    assert (email["spend"], email["conversions"], email["revenue"]) == (0.0, 2.0, 120.0)
    assert (email["cac"], email["roas"]) == (None, None)
    assert (email["ltv"], email["ltv_to_cac"]) == (400.0, None)
    search = _row(roi, "last_touch", "search")
    # Spend without conversions: cac undefined, roas 0, no credited users so no ltv.
    assert (search["spend"], search["conversions"], search["revenue"]) == (300.0, 0.0, 0.0)
    assert (search["cac"], search["roas"]) == (None, 0.0)
    assert (search["ltv"], search["ltv_to_cac"]) == (None, None)
    display = _row(roi, "last_touch", "display")
    assert (display["spend"], display["conversions"]) == (50.0, 0.0)
    assert (display["cac"], display["roas"]) == (None, 0.0)
    direct = _row(roi, "last_touch", DIRECT_CHANNEL)
    assert (direct["spend"], direct["conversions"], direct["revenue"]) == (0.0, 1.0, 30.0)
    assert direct["ltv"] == 60.0
    assert direct["roas"] is None


def test_linear_arithmetic_with_fractional_credit(roi: pl.DataFrame) -> None:
    social = _row(roi, "linear", "social")
    assert social["conversions"] == pytest.approx(4 / 3)
    assert social["revenue"] == pytest.approx(250 / 3)
    assert social["cac"] == pytest.approx(150.0)
    assert social["roas"] == pytest.approx(5 / 12)
    # Weighted by credit: (1/3 * 400 + 1 * 100) / (4/3).
    assert social["ltv"] == pytest.approx(175.0)
    assert social["ltv_to_cac"] == pytest.approx(7 / 6)
    search = _row(roi, "linear", "search")
    assert (search["cac"], search["roas"], search["ltv"], search["ltv_to_cac"]) == (
        pytest.approx(900.0), pytest.approx(1 / 9), pytest.approx(400.0), pytest.approx(4 / 9)
    )


def test_without_user_value_ltv_is_null() -> None:
    journeys = build_journeys(scenario_touchpoints(), scenario_conversions())
    roi = channel_roi(attribute_all(journeys), _spend(), None, journeys)
    assert roi["ltv"].null_count() == roi.height
    assert roi["ltv_to_cac"].null_count() == roi.height
    assert roi["cac"].drop_nulls().len() > 0


def test_conversions_and_revenue_reconcile_per_model(roi: pl.DataFrame) -> None:
    totals = roi.group_by("attribution_model").agg(pl.col("conversions", "revenue").sum())
    for _, conversions, revenue in totals.iter_rows():
        assert conversions == pytest.approx(4.0)
        assert revenue == pytest.approx(200.0)
    spend_totals = roi.group_by("attribution_model").agg(pl.col("spend").sum())["spend"]
    assert spend_totals.to_list() == [550.0] * len(ATTRIBUTION_MODELS)


def test_channel_daily_spend_folds_campaigns() -> None:
    daily = channel_daily_spend(_spend())
    assert daily.columns == ["date", "channel", "spend", "impressions", "clicks"]
    assert daily.schema["spend"] == pl.Decimal(18, 2)
    assert daily.rows() == [
        (date(2024, 3, 1), "email", Decimal("0.00"), 0, 0),
        (date(2024, 3, 1), "search", Decimal("100.00"), 1500, 15),
        (date(2024, 3, 1), "social", Decimal("200.00"), 3000, 30),
        (date(2024, 3, 2), "search", Decimal("200.00"), 2000, 20),
        (date(2024, 3, 3), "display", Decimal("50.00"), 800, 8),
    ]


def test_channel_daily_spend_reconciles_to_the_cent_with_staged_spend() -> None:
    # Ten thousand amounts of a few cents, summed per day and channel: the totals match to the cent.
    cents = [10, 7, 1, 99] * 2_500
    staged = pl.DataFrame({
        "date": [date(2024, 3, 1 + i % 28) for i in range(len(cents))],
        "channel": [("search", "social", "email")[i % 3] for i in range(len(cents))],
        "spend": [f"{c // 100}.{c % 100:02d}" for c in cents],
    }, schema_overrides={"spend": pl.Decimal(18, 2)})
    daily = channel_daily_spend(staged)
    assert daily["spend"].sum() == Decimal(sum(cents)) / 100
    by_channel = daily.group_by("channel").agg(pl.col("spend").sum())
    expected = {}
    for channel, amount in staged.select("channel", "spend").iter_rows():
        expected[channel] = expected.get(channel, Decimal(0)) + amount
    assert dict(by_channel.iter_rows()) == expected


def test_markov_ltv_is_the_mean_clv_of_the_journeys_a_channel_appears_in(roi: pl.DataFrame) -> None:
    social = _row(roi, "markov", "social")
    # Removal effects search 1/3, social 2/3, email 2/3 over 3 chain conversions.
    assert social["conversions"] == pytest.approx(1.2)
    assert social["cac"] == pytest.approx(200.0 / 1.2)
    # u1 (400) and u2 (100) both saw social; Markov weighs them evenly.
    assert social["ltv"] == pytest.approx(250.0)
    assert _row(roi, "markov", "email")["ltv"] == pytest.approx(400.0)  # u5 has no clv
