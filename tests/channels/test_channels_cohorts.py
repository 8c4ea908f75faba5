"""Channel economics per acquisition cohort: reconciliation with the channel totals, and payback by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from channels import (
    ATTRIBUTION_MODELS,
    attribute_all,
    attributed_from_credit,
    build_journeys,
    build_non_converting_paths,
    channel_cohort_roi,
    channel_roi,
    conversion_credit,
)
from channels.cohorts import (
    COHORT_PAYBACK_SCHEMA,
    COHORT_ROI_SCHEMA,
    revenue_since_conversion,
)
from tests.channels.channels_frames import (
    conversions,
    touchpoints,
)
from warehouse import connect, load_query, read_frame

REVENUE_SQL = load_query("channels", "cohort_revenue")

MONEY = pl.Decimal(18, 2)


def _ts(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _with_date(credit: pl.DataFrame) -> pl.DataFrame:
    """The conversion's local date as the asset reads it (UTC here: the frames are in UTC)."""
    return credit.with_columns(pl.col("converted_at").dt.date().alias("conversion_date"))


# --- three months of touches, conversions and spend, run through the real attribution -----------------------

def _multi_month() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    touches = touchpoints([
        ("t1", "a", _ts(2024, 1, 3), "search", "click"),
        ("t2", "a", _ts(2024, 1, 8), "social", "impression"),
        ("t3", "b", _ts(2024, 1, 20), "social", "click"),
        ("t4", "c", _ts(2024, 2, 1), "search", "click"),
        ("t5", "c", _ts(2024, 2, 9), "email", "click"),
        ("t6", "c", _ts(2024, 2, 10), "search", "click"),
        ("t7", "d", _ts(2024, 3, 2), "email", "click"),
        ("t8", "f", _ts(2024, 3, 5), "social", "click"),  # f never converts
    ])
    converted = conversions([
        ("a", _ts(2024, 1, 10), 100.0),
        ("b", _ts(2024, 1, 31, 12), 40.0),
        ("c", _ts(2024, 2, 12), 70.0),
        ("d", _ts(2024, 3, 4), 25.0),
        ("e", _ts(2024, 3, 6), 10.0),  # direct
    ])
    spend = pl.DataFrame({
        "date": [date(2024, 1, 1), date(2024, 1, 15), date(2024, 2, 1), date(2024, 3, 1), date(2024, 1, 5),
                 date(2024, 2, 20), date(2024, 3, 3), date(2024, 3, 4), date(2024, 2, 2)],
        "channel": ["search", "search", "search", "search", "social", "social", "email", "email", "display"],
        "spend": ["10.10", "20.20", "30.30", "0.10", "55.55", "5.00", "0.20", "0.10", "99.99"],
    }, schema_overrides={"spend": MONEY})
    return touches, converted, spend


@pytest.fixture
def attributed_run():
    touches, converted, spend = _multi_month()
    journeys = build_journeys(touches, converted)
    paths = build_non_converting_paths(touches, converted, _ts(2024, 4, 1), 30)
    credit = conversion_credit(journeys, non_converting=paths)
    user_value = pl.DataFrame({"user_id": list("abcde"), "clv": [500.0, 80.0, 300.0, None, 20.0]})
    roi = channel_roi(attributed_from_credit(credit), spend, user_value, journeys, credit=credit)
    purchases = pl.DataFrame({
        "user_id": list("abcde"),
        "occurred_at": converted["converted_at"],
        "txn_date": converted["converted_at"].dt.date(),
        "revenue": converted["conversion_value"],
    })
    revenue = revenue_since_conversion(_with_date(credit), purchases, date(2024, 3, 31))
    cohort_roi, payback = channel_cohort_roi(_with_date(credit), revenue, spend, None, date(2024, 3, 31))
    return journeys, paths, credit, roi, cohort_roi, payback, spend


def test_credit_totals_equal_attribute_all_for_every_model(attributed_run):
    journeys, paths, credit, *_ = attributed_run
    ours = attributed_from_credit(credit).sort("attribution_model", "channel")
    reference = attribute_all(journeys, non_converting=paths).sort("attribution_model", "channel")
    assert ours.select("attribution_model", "channel").equals(reference.select("attribution_model", "channel"))
    assert ours["conversions"].to_list() == pytest.approx(reference["conversions"].to_list())
    assert ours["revenue"].to_list() == pytest.approx(reference["revenue"].to_list())
    assert credit.select("conversion_id", "channel").is_unique().all()


def test_ltv_from_credit_equals_recomputing_the_models(attributed_run):
    journeys, _, credit, roi, *_ = attributed_run
    _, _, spend = _multi_month()
    user_value = pl.DataFrame({"user_id": list("abcde"), "clv": [500.0, 80.0, 300.0, None, 20.0]})
    recomputed = channel_roi(attributed_from_credit(credit), spend, user_value, journeys)
    key = ["attribution_model", "channel"]
    joined = roi.sort(key).join(recomputed.sort(key), on=key, suffix="_again")
    # Markov credit depends on the non-converting paths the fixture passed; the other models do not.
    same = joined.filter(pl.col("attribution_model") != "markov")
    assert same["ltv"].to_list() == pytest.approx(same["ltv_again"].to_list(), nan_ok=True)


def test_cohort_spend_sums_exactly_to_the_channel_spend(attributed_run):
    *_, roi, cohort_roi, _, spend = attributed_run
    assert cohort_roi.schema == pl.Schema(COHORT_ROI_SCHEMA)
    assert cohort_roi.select("channel", "cohort", "attribution_model").is_unique().all()
    per_channel = cohort_roi.group_by("attribution_model", "channel").agg(pl.col("spend").sum())
    expected = {}
    for channel, amount in spend.select("channel", "spend").iter_rows():
        expected[channel] = expected.get(channel, Decimal(0)) + amount
    for model, channel, amount in per_channel.iter_rows():
        assert amount == expected.get(channel, Decimal("0.00")), (model, channel)
    # display spent in February without a touch: it is a cohort of its own, with nothing attributed.
    display = cohort_roi.filter((pl.col("channel") == "display") & (pl.col("attribution_model") == "linear"))
    assert display.select("cohort", "spend", "conversions", "cac", "roas", "payback_months").rows() == [
        ("2024-02", Decimal("99.99"), 0.0, None, 0.0, None)]
    # and the channel totals agree with marts.channel_roi's spend.
    roi_spend = dict(roi.filter(pl.col("attribution_model") == "linear").select("channel", "spend").iter_rows())
    for channel, amount in expected.items():
        assert float(amount) == pytest.approx(roi_spend[channel])


def test_attributed_conversions_and_revenue_across_cohorts_sum_to_the_channel_totals(attributed_run):
    *_, roi, cohort_roi, _, _ = attributed_run
    totals = cohort_roi.group_by("attribution_model", "channel").agg(
        pl.col("conversions").sum(), pl.col("revenue").cast(pl.Float64).sum())
    joined = roi.join(totals, on=["attribution_model", "channel"], how="full", suffix="_cohorts")
    assert joined.filter(pl.col("channel").is_null() | pl.col("channel_cohorts").is_null()).height == 0
    assert set(joined["attribution_model"]) == set(ATTRIBUTION_MODELS)
    assert joined["conversions_cohorts"].to_list() == pytest.approx(joined["conversions"].to_list())
    assert joined["revenue_cohorts"].to_list() == pytest.approx(joined["revenue"].to_list(), abs=0.01 * 3)


def test_cohort_is_the_month_of_the_conversion(attributed_run):
    *_, cohort_roi, _, _ = attributed_run
    first = cohort_roi.filter(pl.col("attribution_model") == "first_touch")
    # a (Jan 10) is first touched by search, b (Jan 31) by social, c (Feb 12) by search, d (Mar 4) by email.
    cells = {(c, m): v for c, m, v in first.select("channel", "cohort", "conversions").iter_rows()}
    assert cells[("search", "2024-01")] == 1.0 and cells[("social", "2024-01")] == 1.0
    assert cells[("search", "2024-02")] == 1.0 and cells[("email", "2024-03")] == 1.0
    assert cells[("(direct)", "2024-03")] == 1.0
    ages = dict(first.filter(pl.col("channel") == "search").select("cohort", "cohort_age_months").iter_rows())
    assert ages == {"2024-01": 2, "2024-02": 1, "2024-03": 0}


# --- payback, LTV, quality and risk on a hand-made cohort ----------------------------------------------------

AS_OF = date(2026, 4, 30)
# (user, converted_at, {channel: (credit, value credit)}) under a single model, "last_touch".
CUSTOMERS = [
    ("a1", _ts(2026, 1, 10), {"ads": (1.0, 20.0)}),
    ("a2", _ts(2026, 1, 20), {"ads": (0.5, 7.5), "social": (0.5, 7.5)}),
    ("a3", _ts(2026, 2, 3), {"tv": (1.0, 4.0)}),
]
# (user, occurred_at, revenue): a1 bought before converting (ignored) and after the as-of date (ignored).
PURCHASES = [
    ("a1", _ts(2026, 1, 5), 999.0), ("a1", _ts(2026, 1, 10), 20.0), ("a1", _ts(2026, 2, 3), 30.0),
    ("a1", _ts(2026, 4, 1), 40.0), ("a1", _ts(2026, 5, 2), 500.0),
    ("a2", _ts(2026, 1, 20), 15.0), ("a2", _ts(2026, 1, 25), 10.0), ("a2", _ts(2026, 3, 2), 50.0),
    ("a3", _ts(2026, 2, 3), 4.0),
]
SPEND = [(date(2026, 1, 2), "ads", "60.00"), (date(2026, 1, 28), "ads", "40.00"), (date(2026, 1, 9), "social", "5.00"),
         (date(2026, 2, 1), "tv", "1000.00"), (date(2026, 5, 1), "ads", "70.00")]
USERS = pl.DataFrame({
    "user_id": ["a1", "a2", "a3"], "clv": [200.0, 100.0, None], "risk_adjusted_clv": [150.0, 40.0, None],
    "kyc_passed": [True, None, False], "borrower": [True, True, False], "defaulted": [False, True, False],
    "charged_off": [0.0, 30.0, 0.0],
})


def _hand_made() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    credit = pl.DataFrame(
        [(user, at, channel, c, v) for user, at, shares in CUSTOMERS for channel, (c, v) in shares.items()],
        schema={"user_id": pl.String, "converted_at": pl.Datetime("us", "UTC"), "channel": pl.String,
                "conversions_last_touch": pl.Float64, "revenue_last_touch": pl.Float64}, orient="row")
    purchases = pl.DataFrame(PURCHASES, schema={"user_id": pl.String, "occurred_at": pl.Datetime("us", "UTC"),
                                                "revenue": pl.Float64}, orient="row")
    purchases = purchases.with_columns(pl.col("occurred_at").dt.date().alias("txn_date"))
    spend = pl.DataFrame(SPEND, schema={"date": pl.Date, "channel": pl.String, "spend": pl.String}, orient="row")
    return _with_date(credit), purchases, spend.with_columns(pl.col("spend").cast(MONEY))


def _expected_curve(channel: str, cohort_month: int, age: int) -> list[float]:
    """Cumulative credit-weighted revenue by month since the cohort month, from the lists above."""
    cumulative, curve = 0.0, []
    for month in range(age + 1):
        for user, converted_at, shares in CUSTOMERS:
            if converted_at.month != cohort_month or channel not in shares:
                continue
            for buyer, at, revenue in PURCHASES:
                if buyer == user and at >= converted_at and at.date() <= AS_OF and at.month - cohort_month == month:
                    cumulative += shares[channel][0] * revenue
        curve.append(cumulative)
    return curve


@pytest.fixture
def hand_made():
    credit, purchases, spend = _hand_made()
    return channel_cohort_roi(credit, revenue_since_conversion(credit, purchases, AS_OF), spend, USERS, AS_OF)


def _cell(frame: pl.DataFrame, channel: str, cohort: str) -> dict:
    rows = frame.filter((pl.col("channel") == channel) & (pl.col("cohort") == cohort))
    assert rows.height == 1
    return rows.row(0, named=True)


def test_payback_curve_and_month_by_hand(hand_made):
    roi, payback = hand_made
    assert payback.schema == pl.Schema(COHORT_PAYBACK_SCHEMA)
    ads = payback.filter((pl.col("channel") == "ads") & (pl.col("cohort") == "2026-01")).sort("month")
    expected = _expected_curve("ads", 1, 3)
    assert expected == [32.5, 62.5, 87.5, 127.5]  # the hand arithmetic behind the helper
    assert ads["month"].to_list() == [0, 1, 2, 3]
    assert [float(v) for v in ads["cumulative_revenue"]] == pytest.approx(expected)
    assert ads["recovered"].to_list() == pytest.approx([v / 100.0 for v in expected])
    # Spend 60 + 40 in January (May's 70 is after the as-of date): first covered in month 3.
    cell = _cell(roi, "ads", "2026-01")
    assert cell["payback_months"] == next(m for m, v in enumerate(expected) if v >= 100.0) == 3
    assert cell["spend"] == Decimal("100.00")
    assert cell["conversions"] == 1.5 and cell["revenue"] == Decimal("27.50")
    assert cell["cac"] == Decimal("66.67")
    assert cell["roas"] == pytest.approx(27.5 / 100.0)
    assert cell["revenue_to_date"] == Decimal("127.50")
    assert cell["cohort_age_months"] == 3
    # social: half of a2, spend 5.00, covered in the conversion month already.
    social = _cell(roi, "social", "2026-01")
    assert social["payback_months"] == 0
    assert float(social["revenue_to_date"]) == pytest.approx(_expected_curve("social", 1, 3)[-1])
    # tv: 4.00 earned against 1,000.00 spent: never paid back.
    tv = _cell(roi, "tv", "2026-02")
    assert tv["payback_months"] is None
    assert payback.filter(pl.col("channel") == "tv")["recovered"].to_list() == pytest.approx([0.004, 0.004, 0.004])


def test_payback_is_reached_exactly_at_the_spend():
    credit, purchases, spend = _hand_made()
    exact = spend.with_columns(
        pl.when(pl.col("channel") == "ads").then(pl.lit(Decimal("63.75")).cast(MONEY)).otherwise(pl.col("spend"))
        .alias("spend")).filter((pl.col("channel") != "ads") | (pl.col("date") == date(2026, 1, 2)))
    roi, _ = channel_cohort_roi(credit, revenue_since_conversion(credit, purchases, AS_OF), exact, USERS, AS_OF)
    # 62.50 by month 1 falls short of 63.75 by a cent and a quarter; month 2 (87.50) covers it.
    assert _cell(roi, "ads", "2026-01")["payback_months"] == 2
    at_62_50 = exact.with_columns(pl.when(pl.col("channel") == "ads").then(pl.lit(Decimal("62.50")).cast(MONEY))
                                  .otherwise(pl.col("spend")).alias("spend"))
    roi, _ = channel_cohort_roi(credit, revenue_since_conversion(credit, purchases, AS_OF), at_62_50, USERS, AS_OF)
    assert _cell(roi, "ads", "2026-01")["payback_months"] == 1


def test_ltv_quality_and_risk_adjusted_roi_are_credit_weighted(hand_made):
    roi, _ = hand_made
    ads = _cell(roi, "ads", "2026-01")
    # a1 with credit 1, a2 with credit 0.5.
    assert float(ads["ltv"]) == pytest.approx(round((1.0 * 200 + 0.5 * 100) / 1.5, 2))
    assert ads["ltv_to_cac"] == pytest.approx(((1.0 * 200 + 0.5 * 100) / 1.5) / (100.0 / 1.5))
    assert ads["kyc_pass_rate"] == 1.0  # a2's unknown status is not a failure
    assert ads["repeat_rate"] == pytest.approx(1.5 / 1.5)  # both bought again after converting
    assert ads["default_rate"] == pytest.approx(0.5 / 1.5)  # a2 (half credit) defaulted among borrowers
    assert ads["charged_off"] == Decimal("15.00")
    value = 127.5 - 15.0 + (1.0 * 150 + 0.5 * 40)
    assert float(ads["risk_adjusted_value"]) == pytest.approx(value)
    assert ads["risk_adjusted_roi"] == pytest.approx((value - 100.0) / 100.0)
    tv = _cell(roi, "tv", "2026-02")
    assert tv["repeat_rate"] == 0.0 and tv["kyc_pass_rate"] == 0.0 and tv["default_rate"] is None
    assert tv["ltv"] is None and tv["risk_adjusted_value"] is None  # a3 has no value


def test_without_user_value_quality_and_value_are_null():
    credit, purchases, spend = _hand_made()
    roi, _ = channel_cohort_roi(credit, revenue_since_conversion(credit, purchases, AS_OF), spend, None, AS_OF)
    ads = _cell(roi, "ads", "2026-01")
    assert (ads["ltv"], ads["kyc_pass_rate"], ads["default_rate"], ads["risk_adjusted_roi"]) == (None, None, None, None)
    assert ads["payback_months"] == 3 and ads["repeat_rate"] == 1.0


def test_one_conversion_per_user_is_required():
    credit, purchases, spend = _hand_made()
    twice = pl.concat([credit, credit.head(1).with_columns(pl.col("conversion_date") + pl.duration(days=1))])
    with pytest.raises(ValueError, match="one conversion per user"):
        channel_cohort_roi(twice, revenue_since_conversion(credit, purchases, AS_OF), spend, None, AS_OF)


def test_the_assets_sql_gives_the_same_revenue_in_the_business_time_zone():
    credit, purchases, _ = _hand_made()
    # b converts at 17:30 UTC on 31 January: 1 February in Shanghai, so February is b's month 0.
    late = pl.DataFrame({"user_id": ["b"], "converted_at": [_ts(2026, 1, 31, 17)], "channel": ["ads"],
                         "conversions_last_touch": [1.0], "revenue_last_touch": [9.0]},
                        schema_overrides={"converted_at": pl.Datetime("us", "UTC")})
    late_purchases = pl.DataFrame({"user_id": ["b", "b"], "occurred_at": [_ts(2026, 1, 31, 17), _ts(2026, 2, 10)],
                                   "revenue": [9.0, 3.0]}, schema_overrides={"occurred_at": pl.Datetime("us", "UTC")})
    conn = connect(":memory:", "Asia/Shanghai")
    all_credit = pl.concat([credit.drop("conversion_date"), late])
    conn.register("credit_frame", all_credit.to_arrow())
    conn.register("purchase_frame", pl.concat([purchases.drop("txn_date"), late_purchases]).to_arrow())
    conn.execute("CREATE SCHEMA marts; CREATE SCHEMA core")
    conn.execute("CREATE TABLE marts.channel_conversion_credit AS SELECT * FROM credit_frame")
    conn.execute("CREATE TABLE core.purchases AS SELECT user_id, occurred_at, CAST(occurred_at AS DATE) AS txn_date, "
                 "CAST(revenue AS DECIMAL(18, 2)) AS revenue FROM purchase_frame")
    conn.execute(f"CREATE TABLE core.analysis_window AS SELECT DATE '{AS_OF}' AS as_of")
    from_sql = read_frame(conn, REVENUE_SQL).sort("user_id", "month")
    local = read_frame(conn, "SELECT user_id, converted_at, CAST(converted_at AS DATE) AS conversion_date "
                             "FROM marts.channel_conversion_credit")
    local_purchases = read_frame(conn, "SELECT user_id, occurred_at, txn_date, revenue FROM core.purchases")
    from_polars = revenue_since_conversion(local, local_purchases, AS_OF)
    assert from_sql.columns == from_polars.columns
    assert from_sql.rows() == from_polars.rows()
    assert from_sql.filter(pl.col("user_id") == "b").rows() == [("b", 0, 12.0, True)]
