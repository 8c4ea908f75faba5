"""Channel quality: rates per cohort and overall, spend per sign-up, risk-adjusted return and payback month."""

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


def test_payback_curve_adds_each_month_measured_on_the_users_old_enough(users, purchases, spend):
    curve = channel_payback(users, purchases, spend, as_of=date(2026, 3, 31))
    ads = curve.filter(pl.col("acquisition_channel") == "ads").sort("month")
    assert ads["month"].to_list() == [0, 1, 2]
    assert ads["users"].to_list() == [3, 3, 2]  # a3 (Feb) has not reached month 2 by March
    # Month 0: a1's 10 over 3; month 1: a1's 20 over 3; month 2: a2's 30 over a1 and a2 only (a3 is too young).
    assert ads["revenue_per_user"].to_list() == pytest.approx([10 / 3, 20 / 3, 30 / 2])
    assert ads["cumulative_revenue_per_user"].to_list() == pytest.approx([10 / 3, 30 / 3, 30 / 3 + 15])
    assert ads["spend_per_signup"].to_list() == [30.0] * 3
    assert ads["recovered"].to_list() == pytest.approx([1 / 9, 1 / 3, 25 / 30])


def test_payback_curve_never_falls_when_the_oldest_cohort_is_the_poorest():
    # The January sign-up bought once; the rich February and March sign-ups pull every early month up. An
    # average of cumulative revenue over the users old enough would fall at month 2, where January is alone.
    users = pl.DataFrame({"user_id": ["jan", "feb", "mar"], "acquisition_channel": ["ads"] * 3,
                          "signup_date": [date(2026, 1, 2), date(2026, 2, 2), date(2026, 3, 2)]})
    purchases = pl.DataFrame({"user_id": ["jan", "feb", "feb", "mar"],
                              "txn_date": [date(2026, 1, 3), date(2026, 2, 3), date(2026, 3, 3), date(2026, 3, 4)],
                              "revenue": [1.0, 50.0, 50.0, 50.0]})
    spend = pl.DataFrame({"date": [date(2026, 1, 1)], "channel": ["ads"], "spend": [30.0]})

    curve = channel_payback(users, purchases, spend, as_of=date(2026, 3, 31)).sort("month")

    cumulative = curve["cumulative_revenue_per_user"].to_list()
    assert cumulative == pytest.approx([101 / 3, 101 / 3 + 50 / 2, 101 / 3 + 25 + 0.0])
    assert all(later >= earlier for earlier, later in zip(cumulative, cumulative[1:]))


def test_quality_per_cohort_and_overall(users, purchases, spend):
    curve = channel_payback(users, purchases, spend, as_of=date(2026, 3, 31))
    quality = channel_quality(users, spend, curve)
    ads_all = quality.filter((pl.col("acquisition_channel") == "ads") & (pl.col("cohort") == "all")).row(0, named=True)
    assert ads_all["users"] == 3 and ads_all["spend"] == 90.0 and ads_all["spend_per_signup"] == 30.0
    assert ads_all["kyc_pass_rate"] == pytest.approx(2 / 3)
    assert ads_all["first_txn_rate"] == pytest.approx(2 / 3)
    assert ads_all["borrowers"] == 2 and ads_all["default_rate"] == pytest.approx(0.5)
    assert ads_all["risk_adjusted_return"] == pytest.approx(100.0 / 90.0)
    assert ads_all["clv_to_spend"] == pytest.approx(150.0 / 90.0)
    assert ads_all["payback_months"] is None  # 25 per user by month 2 is short of 30 per sign-up
    ads_jan = quality.filter((pl.col("acquisition_channel") == "ads") & (pl.col("cohort") == "2026-01")).row(0, named=True)
    assert ads_jan["users"] == 2 and ads_jan["spend"] == 60.0
    referral = quality.filter((pl.col("acquisition_channel") == "referral") & (pl.col("cohort") == "all")).row(0, named=True)
    assert referral["kyc_pass_rate"] == 1.0  # unknown status is not counted as a failure
    assert referral["default_rate"] is None  # no borrowers
    assert referral["payback_months"] == 2  # b1's 5 + 5 / 1 by month 2 >= 5 per sign-up; months 0-1 give 2.5


def test_payback_month_is_the_first_month_reaching_cac(users, purchases, spend):
    curve = channel_payback(users, purchases, spend, as_of=date(2026, 3, 31))
    cheap = spend.with_columns(pl.when(pl.col("channel") == "ads").then(pl.col("spend") / 10).otherwise(pl.col("spend")))
    quality = channel_quality(users, cheap, curve.with_columns(pl.col("spend_per_signup") / 10))
    ads_all = quality.filter((pl.col("acquisition_channel") == "ads") & (pl.col("cohort") == "all"))
    assert ads_all["payback_months"].item() == 0  # 3 per sign-up <= 10/3 in month 0
