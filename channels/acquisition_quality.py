"""What each acquisition channel's users become: quality, value net of credit loss, spend per sign-up and payback.

Counting people a channel brought in says little to finance; these tables judge a channel by its
acquired users' KYC pass rate, first-transaction rate, default rate and lifetime value net of expected
credit loss, against what the channel cost, per signup-month cohort and overall.

The people here are the channel's sign-ups (`acquisition_channel` of the user), bought or not, so the cost is
spend per sign-up: lower than the CAC per customer of `marts.channel_roi`, which divides spend by the first
purchases the attribution model credits to the channel. The two are different metrics (`spend_per_signup`
and `channel_cac` in `metrics/registry.yaml`) and the pages name them so.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from channels._columns import require_columns

ALL_COHORTS = "all"

QUALITY_SCHEMA = {
    "acquisition_channel": pl.String, "cohort": pl.String, "users": pl.Int64, "kyc_pass_rate": pl.Float64,
    "first_txn_rate": pl.Float64, "borrowers": pl.Int64, "default_rate": pl.Float64, "spend": pl.Float64,
    "spend_per_signup": pl.Float64, "mean_clv": pl.Float64, "mean_risk_adjusted_clv": pl.Float64,
    "clv_to_spend": pl.Float64, "risk_adjusted_return": pl.Float64, "payback_months": pl.Int64,
}
PAYBACK_COLUMNS = ["acquisition_channel", "month", "users", "revenue_per_user", "cumulative_revenue_per_user",
                   "spend_per_signup", "recovered"]


def channel_payback(users: pl.DataFrame, purchases: pl.DataFrame, spend: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Cumulative revenue per sign-up by months since signup, against the channel's spend per sign-up.

    Cohorts of different ages are compared month by month, never mixed in one average: month ``k``'s revenue
    per user is the revenue of month ``k`` since signup over the users old enough to have lived month ``k``
    (signed up at least ``k`` calendar months before the as-of month), and the cumulative curve adds these up.
    Each month then speaks for the same kind of user in numerator and denominator, and the curve never falls
    (a plain average of cumulative revenue over the users old enough would fall whenever the older cohorts
    happen to be poorer, which says nothing about payback).

    Args:
        users: ``user_id``, ``acquisition_channel``, ``signup_date`` (Date).
        purchases: ``user_id``, ``txn_date`` (Date), ``revenue``.
        spend: ``date``, ``channel``, ``spend`` (marketing spend; its channel names match
            ``acquisition_channel``).
        as_of: analysis date; a cohort's age is counted up to it.

    Returns:
        One row per acquisition channel × months since signup (0 .. the oldest cohort's age), columns
        ``PAYBACK_COLUMNS``: ``users`` (sign-ups old enough to have reached that month), ``revenue_per_user``
        (that month's revenue over them), ``cumulative_revenue_per_user`` (the sum of ``revenue_per_user`` up to
        the month), ``spend_per_signup`` (channel spend over every user it signed up; null without spend) and
        ``recovered`` (cumulative revenue per user over spend per sign-up).
    """
    require_columns(users, ["user_id", "acquisition_channel", "signup_date"], "users")
    require_columns(purchases, ["user_id", "txn_date", "revenue"], "purchases")
    ages = users.filter(pl.col("signup_date") <= as_of).select(
        "user_id", "acquisition_channel", "signup_date",
        _months_between(pl.col("signup_date"), pl.lit(as_of)).alias("age"))
    # A purchase in month k of a user happened by the as-of date, so the user is old enough for month k.
    monthly = (
        purchases.join(ages, on="user_id", how="inner")
        .filter(pl.col("txn_date").is_between(pl.col("signup_date"), pl.lit(as_of)))
        .group_by("acquisition_channel", _months_between(pl.col("signup_date"), pl.col("txn_date")).alias("month"))
        .agg(pl.col("revenue").cast(pl.Float64).sum())
    )
    reached = ages.group_by("acquisition_channel", "age").agg(pl.len().alias("reached"))
    months = (
        ages.group_by("acquisition_channel").agg(pl.int_range(0, pl.col("age").max() + 1).alias("month"))
        .explode("month", empty_as_null=True).with_columns(pl.col("month").cast(pl.Int64))
    )
    curve = (
        months.join(monthly, on=["acquisition_channel", "month"], how="left")
        .join(reached.rename({"age": "month"}), on=["acquisition_channel", "month"], how="left")
        .sort("acquisition_channel", "month", descending=[False, True])
        # Users old enough for a month: those whose age is that month or more.
        .with_columns(pl.col("reached").fill_null(0).cum_sum().over("acquisition_channel").cast(pl.Int64).alias("users"))
        .sort("acquisition_channel", "month")
        .with_columns((pl.col("revenue").fill_null(0.0) / pl.col("users")).alias("revenue_per_user"))
        .with_columns(pl.col("revenue_per_user").cum_sum().over("acquisition_channel")
                      .alias("cumulative_revenue_per_user"))
    )
    return (
        curve.join(_spend_per_signup(users, spend), on="acquisition_channel", how="left")
        .with_columns((pl.col("cumulative_revenue_per_user") / pl.col("spend_per_signup")).alias("recovered"))
        .sort("acquisition_channel", "month")
        .select(PAYBACK_COLUMNS)
    )


def channel_quality(users: pl.DataFrame, spend: pl.DataFrame, payback: pl.DataFrame) -> pl.DataFrame:
    """Quality, value and return of each acquisition channel, per signup-month cohort and over all cohorts.

    Args:
        users: one row per user: ``user_id``, ``acquisition_channel``, ``signup_date`` (Date),
            ``kyc_passed`` (Boolean, null when unknown), ``transacted`` (Boolean), ``borrower`` (Boolean),
            ``defaulted`` (Boolean), ``clv`` and ``risk_adjusted_clv`` (Float64).
        spend: ``date``, ``channel``, ``spend``; a cohort's spend is the channel's spend in that month.
        payback: output of :func:`channel_payback` (for the overall payback month per channel).

    Returns:
        Columns of ``QUALITY_SCHEMA``; ``cohort`` is "YYYY-MM" or "all". Rates are shares of the cohort's
        users (KYC among users with a known status, default among borrowers). Spend is divided by every
        sign-up, bought or not (``spend_per_signup``: not the CAC per customer of ``marts.channel_roi``);
        ``clv_to_spend`` is the sign-ups' total CLV over spend and ``risk_adjusted_return`` their total
        risk-adjusted CLV over spend (1 = the spend comes back once); ``payback_months`` is the first month
        since signup (0 = the signup month) when cumulative revenue per sign-up reaches spend per sign-up
        (only on "all" rows; null if not yet reached).
    """
    require_columns(users, ["user_id", "acquisition_channel", "signup_date", "kyc_passed", "transacted",
                            "borrower", "defaulted", "clv", "risk_adjusted_clv"], "users")
    cohorts = users.with_columns(pl.col("signup_date").dt.strftime("%Y-%m").alias("cohort"))
    monthly_spend = spend.group_by(
        pl.col("channel").alias("acquisition_channel"), pl.col("date").dt.strftime("%Y-%m").alias("cohort")
    ).agg(pl.col("spend").cast(pl.Float64).sum())
    by_cohort = _summarise(cohorts, ["acquisition_channel", "cohort"]).join(
        monthly_spend, on=["acquisition_channel", "cohort"], how="left")
    overall = _summarise(cohorts, ["acquisition_channel"]).with_columns(pl.lit(ALL_COHORTS).alias("cohort")).join(
        spend.group_by(pl.col("channel").alias("acquisition_channel")).agg(pl.col("spend").cast(pl.Float64).sum()),
        on="acquisition_channel", how="left")
    paid_back = (
        payback.filter(pl.col("spend_per_signup").is_not_null()
                       & (pl.col("cumulative_revenue_per_user") >= pl.col("spend_per_signup")))
        .group_by("acquisition_channel").agg(pl.col("month").min().alias("payback_months"))
        .with_columns(pl.lit(ALL_COHORTS).alias("cohort"))
    )
    return (
        pl.concat([by_cohort, overall], how="diagonal_relaxed")
        .join(paid_back, on=["acquisition_channel", "cohort"], how="left")
        .with_columns(
            (pl.col("spend") / pl.col("users")).alias("spend_per_signup"),
            (pl.col("mean_clv") * pl.col("users") / pl.col("spend")).alias("clv_to_spend"),
            (pl.col("mean_risk_adjusted_clv") * pl.col("users") / pl.col("spend")).alias("risk_adjusted_return"),
        )
        .with_columns(pl.when(pl.col("spend") > 0).then(pl.col(c)).alias(c)
                      for c in ("spend_per_signup", "clv_to_spend", "risk_adjusted_return"))
        .select(list(QUALITY_SCHEMA))
        .cast(QUALITY_SCHEMA)
        .sort("acquisition_channel", "cohort")
    )


def _summarise(users: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return users.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("users"),
        pl.col("kyc_passed").mean().alias("kyc_pass_rate"),
        pl.col("transacted").mean().alias("first_txn_rate"),
        pl.col("borrower").sum().cast(pl.Int64).alias("borrowers"),
        (pl.col("defaulted") & pl.col("borrower")).sum().alias("_defaults"),
        pl.col("clv").mean().alias("mean_clv"),
        pl.col("risk_adjusted_clv").mean().alias("mean_risk_adjusted_clv"),
    ).with_columns(
        pl.when(pl.col("borrowers") > 0).then(pl.col("_defaults") / pl.col("borrowers")).alias("default_rate")
    ).drop("_defaults")


def _spend_per_signup(users: pl.DataFrame, spend: pl.DataFrame) -> pl.DataFrame:
    acquired = users.group_by("acquisition_channel").agg(pl.len().alias("acquired"))
    spent = spend.group_by(pl.col("channel").alias("acquisition_channel")).agg(pl.col("spend").cast(pl.Float64).sum())
    return acquired.join(spent, on="acquisition_channel", how="left").select(
        "acquisition_channel",
        pl.when(pl.col("spend") > 0).then(pl.col("spend") / pl.col("acquired")).alias("spend_per_signup"))


def _months_between(earlier: pl.Expr, later: pl.Expr) -> pl.Expr:
    """Whole calendar months from the earlier date's month to the later date's month."""
    return ((later.dt.year() - earlier.dt.year()) * 12 + later.dt.month() - earlier.dt.month()).cast(pl.Int64)
