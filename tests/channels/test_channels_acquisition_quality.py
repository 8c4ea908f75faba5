"""Channel quality: rates per cohort and overall, CAC, risk-adjusted ROI and payback month."""

from datetime import date

import polars as pl
import pytest

from channels.acquisition_quality import channel_payback, channel_quality


@pytest.fixture
def users():
    return pl.DataFrame({
        "user_id": ["a1", "a2", "a3", "b1", "b2"],
        "acquisition_channel": ["ads", "ads", "ads", "referral", "referral"],
        "signup_date": [date(2026, 1, 5), date(2026, 1, 20), date(2026, 2, 3), date(2026, 1, 7), date(2026, 2, 9)],
        "kyc_passed": [True, False, True, True, None],
        "transacted": [True, True, False, True, False],
        "borrower": [True, True, False, False, False],
        "defaulted": [False, True, False, False, False],
        "clv": [100.0, 50.0, 0.0, 300.0, 20.0],
        "risk_adjusted_clv": [90.0, 10.0, 0.0, 300.0, 20.0],
    })


@pytest.fixture
def purchases():
    return pl.DataFrame({
        "user_id": ["a1", "a1", "a2", "b1", "b1", "a1"],
        "txn_date": [date(2026, 1, 6), date(2026, 2, 10), date(2026, 3, 1), date(2026, 1, 8), date(2026, 3, 3),
                     date(2026, 9, 1)],  # the last is after the as-of date
        "revenue": [10.0, 20.0, 30.0, 5.0, 5.0, 999.0],
    })


@pytest.fixture
def spend():
    return pl.DataFrame({"date": [date(2026, 1, 1), date(2026, 2, 1), date(2026, 1, 2)],
                         "channel": ["ads", "ads", "referral"], "spend": [60.0, 30.0, 10.0]})


def test_payback_curve_counts_only_users_old_enough(users, purchases, spend):
    curve = channel_payback(users, purchases, spend, as_of=date(2026, 3, 31))
    ads = curve.filter(pl.col("acquisition_channel") == "ads").sort("month")
    assert ads["month"].to_list() == [0, 1, 2]
    assert ads["users"].to_list() == [3, 3, 2]  # a3 (Feb) has not reached month 2 by March
    # Month 2 averages a1 (30) and a2 (30) only: a3 is too young to have a month-2 figure.
    assert ads["cumulative_revenue_per_user"].to_list() == pytest.approx([10 / 3, 30 / 3, 60 / 2])
    assert ads["cac"].to_list() == [30.0] * 3


def test_quality_per_cohort_and_overall(users, purchases, spend):
    curve = channel_payback(users, purchases, spend, as_of=date(2026, 3, 31))
    quality = channel_quality(users, spend, curve)
    ads_all = quality.filter((pl.col("acquisition_channel") == "ads") & (pl.col("cohort") == "all")).row(0, named=True)
    assert ads_all["users"] == 3 and ads_all["spend"] == 90.0 and ads_all["cac"] == 30.0
    assert ads_all["kyc_pass_rate"] == pytest.approx(2 / 3)
    assert ads_all["first_txn_rate"] == pytest.approx(2 / 3)
    assert ads_all["borrowers"] == 2 and ads_all["default_rate"] == pytest.approx(0.5)
    assert ads_all["risk_adjusted_roi"] == pytest.approx((100.0 - 90.0) / 90.0)
    assert ads_all["ltv_to_cac"] == pytest.approx((150 / 3) / 30.0)
    assert ads_all["payback_months"] == 2  # 30 per user first reached in month 2
    ads_jan = quality.filter((pl.col("acquisition_channel") == "ads") & (pl.col("cohort") == "2026-01")).row(0, named=True)
    assert ads_jan["users"] == 2 and ads_jan["spend"] == 60.0
    referral = quality.filter((pl.col("acquisition_channel") == "referral") & (pl.col("cohort") == "all")).row(0, named=True)
    assert referral["kyc_pass_rate"] == 1.0  # unknown status is not counted as a failure
    assert referral["default_rate"] is None  # no borrowers
    assert referral["payback_months"] == 2  # b1's 10 by month 2 >= CAC 5; months 0-1 average 2.5


def test_payback_month_is_the_first_month_reaching_cac(users, purchases, spend):
    curve = channel_payback(users, purchases, spend, as_of=date(2026, 3, 31))
    cheap = spend.with_columns(pl.when(pl.col("channel") == "ads").then(pl.col("spend") / 10).otherwise(pl.col("spend")))
    quality = channel_quality(users, cheap, curve.with_columns(pl.col("cac") / 10))
    ads_all = quality.filter((pl.col("acquisition_channel") == "ads") & (pl.col("cohort") == "all"))
    assert ads_all["payback_months"].item() == 0  # CAC 3 <= 10/3 in month 0
