"""The planted population: truth, demographics, channel quality, journeys and loans."""

from __future__ import annotations

import datetime as dt

import polars as pl

from sampledata import SampleDataSummary
from tests.sampledata.sampledata_readers import read_events, read_transactions, read_users

END = dt.date(2026, 6, 30)


def test_planted_truth_covers_every_clean_user(small_landing: SampleDataSummary) -> None:
    truth = pl.read_csv(small_landing.truth_path)
    users = read_users(small_landing.out_dir)
    planted_rows = users.filter(pl.col("user_id").is_not_null() & ~pl.col("user_id").str.contains("-d"))
    assert set(truth["user_id"]) == set(planted_rows["user_id"])
    assert truth.height == 2_000
    assert truth["planted_type"].n_unique() == 5


def test_minors_unknown_birth_dates_and_young_students_exist(clean_landing: SampleDataSummary) -> None:
    users = read_users(clean_landing.out_dir)
    age = users.select(
        ((pl.lit(END) - pl.col("birth_date").str.to_date()).dt.total_days() / 365.25).alias("age"),
        (pl.col("is_student") == "true").alias("student"),
    )
    unknown = users["birth_date"].null_count() / users.height
    minors = (age["age"] < 18).sum()
    assert 0.01 < unknown < 0.06
    assert 0 < minors < 0.03 * users.height
    assert age["age"].drop_nulls().is_between(12, 80).all()
    students = age.filter(pl.col("student"))
    assert 0.04 < students.height / users.height < 0.14
    assert students["age"].median() < age.filter(~pl.col("student"))["age"].median() - 5


def test_planted_types_differ_in_transaction_behaviour(clean_landing: SampleDataSummary) -> None:
    truth = pl.read_csv(clean_landing.truth_path)
    txns = read_transactions(clean_landing.out_dir).filter(pl.col("status") == "completed")
    per_type = (
        txns.join(truth, on="user_id")
        .group_by("planted_type")
        .agg(
            ((pl.col("product_line") == "credit").sum() / pl.col("user_id").n_unique()).alias("credit_per_user"),
            ((pl.col("product_line") == "payment").sum() / pl.col("user_id").n_unique()).alias("payments_per_user"),
            pl.col("amount").cast(pl.Float64).filter(pl.col("product_line") == "wealth").mean().alias("fund_ticket"),
            pl.col("occurred_at").max().alias("last"),
        )
    )
    row = {r["planted_type"]: r for r in per_type.to_dicts()}
    types = pl.read_csv(clean_landing.truth_path)["planted_type"].value_counts()
    buyers = txns.join(truth, on="user_id").group_by("planted_type").agg(pl.col("user_id").n_unique())
    buyer_share = {
        r["planted_type"]: r["user_id"] / types.filter(pl.col("planted_type") == r["planted_type"])["count"][0]
        for r in buyers.to_dicts()
    }
    assert row["young_credit_shopper"]["credit_per_user"] > 3 * row["everyday_payer"]["credit_per_user"] + 1
    assert row["everyday_payer"]["payments_per_user"] > 2 * row["young_credit_shopper"]["payments_per_user"]
    assert row["affluent_wealth_investor"]["fund_ticket"] > 10_000
    assert buyer_share.get("dormant_signup", 0.0) < 0.2
    assert buyer_share["everyday_payer"] > 0.8
    # Lapsed users were active early and then went quiet; shoppers are still buying at the end.
    last = txns.join(truth, on="user_id").group_by("user_id", "planted_type").agg(pl.col("occurred_at").max())
    recent = last.group_by("planted_type").agg((pl.col("occurred_at").str.slice(0, 10) >= "2026-05-01").mean())
    recent_share = dict(recent.iter_rows())
    assert recent_share["lapsed_credit_user"] < 0.1
    assert recent_share["young_credit_shopper"] > 0.7


def test_channels_differ_in_default_and_kyc_rates(clean_landing: SampleDataSummary) -> None:
    users = read_users(clean_landing.out_dir)
    loans = pl.read_parquet(clean_landing.out_dir / "loan_performance.parquet")
    defaulted = (
        loans.group_by("loan_id", "user_id")
        .agg((pl.col("days_past_due") >= 90).any().alias("defaulted"))
        .join(users.select("user_id", "acquisition_channel"), on="user_id")
        .group_by("acquisition_channel")
        .agg(pl.col("defaulted").mean())
    )
    rate = dict(defaulted.iter_rows())
    assert 0.005 < defaulted["defaulted"].mean() < 0.1
    assert min(rate["kol_video"], rate["social_feed"]) > 2 * max(rate["referral"], rate["offline_branch"])
    charged = loans.filter(pl.col("days_past_due") >= 90)
    assert (charged["charged_off_amount"] > 0).all()
    kyc = dict(
        users.group_by("acquisition_channel").agg((pl.col("kyc_status") == "passed").mean()).iter_rows()
    )
    assert kyc["offline_branch"] > kyc["kol_video"] + 0.1


def test_last_touch_before_signup_is_the_acquisition_channel(clean_landing: SampleDataSummary) -> None:
    users = read_users(clean_landing.out_dir)
    events = read_events(clean_landing.out_dir)
    device = events.filter(pl.col("event_name") == "sign_up").select("user_id", "anonymous_id")
    touch = (
        pl.read_parquet(clean_landing.out_dir / "touchpoints.parquet")
        .filter(pl.col("user_id").is_null())
        .drop("user_id")
    )
    signup = users.select(
        "user_id", "acquisition_channel", pl.col("signup_at").str.to_datetime("%Y-%m-%d %H:%M:%S").alias("signup")
    )
    journeys = (
        touch.with_columns(pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%z").dt.replace_time_zone(None)
                           + pl.duration(hours=8))
        .join(device, on="anonymous_id")
        .join(signup, on="user_id")
    )
    assert journeys.height > 0
    assert (journeys["occurred_at"] < journeys["signup"]).all()
    last = (
        journeys.sort("occurred_at")
        .group_by("user_id")
        .agg(pl.col("channel").last(), pl.col("acquisition_channel").first())
    )
    assert (last["channel"] == last["acquisition_channel"]).all()
    assert set(events["event_name"]) >= {"repayment", "kyc_failed"}


def test_volumes_scale_linearly_with_users(tmp_path) -> None:
    from sampledata import generate_sample_data

    small = generate_sample_data(tmp_path / "a", users=800, days=60, seed=5, dirty_fraction=0)
    large = generate_sample_data(tmp_path / "b", users=1_600, days=60, seed=5, dirty_fraction=0)
    for source in ("users", "transactions", "events", "touchpoints", "consents", "loan_performance"):
        ratio = large.rows[source] / small.rows[source]
        assert 1.6 < ratio < 2.4, source
    spend = [
        pl.read_csv(s.out_dir / "marketing_spend.csv")["spend"].sum() for s in (small, large)
    ]
    assert 1.5 < spend[1] / spend[0] < 2.5
