"""What each acquisition channel's users become: quality, value net of credit loss, CAC and payback.

Counting people a channel brought in says little to finance; these tables judge a channel by its
acquired users' KYC pass rate, first-transaction rate, default rate and lifetime value net of expected
credit loss, against what the channel cost, per signup-month cohort and overall.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from channels._columns import require_columns

ALL_COHORTS = "all"

QUALITY_SCHEMA = {
    "acquisition_channel": pl.String, "cohort": pl.String, "users": pl.Int64, "kyc_pass_rate": pl.Float64,
    "first_txn_rate": pl.Float64, "borrowers": pl.Int64, "default_rate": pl.Float64, "spend": pl.Float64,
    "cac": pl.Float64, "mean_clv": pl.Float64, "mean_risk_adjusted_clv": pl.Float64, "ltv_to_cac": pl.Float64,
    "risk_adjusted_roi": pl.Float64, "payback_months": pl.Int64,
}


def channel_payback(users: pl.DataFrame, purchases: pl.DataFrame, spend: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Cumulative revenue per acquired user by months since signup, against the channel's CAC.

    Args:
        users: ``user_id``, ``acquisition_channel``, ``signup_date`` (Date).
        purchases: ``user_id``, ``txn_date`` (Date), ``revenue``.
        spend: ``date``, ``channel``, ``spend`` (marketing spend; its channel names match
            ``acquisition_channel``).
        as_of: analysis date; a cohort's age is counted up to it.

    Returns:
        One row per acquisition channel × months since signup (0 .. the oldest cohort's age):
        ``acquisition_channel``, ``month``, ``users`` (acquired users old enough to have reached that
        month), ``cumulative_revenue_per_user`` (Float64, over those users), ``cac`` (Float64, channel
        spend over all users it acquired; null without spend).
    """
    require_columns(users, ["user_id", "acquisition_channel", "signup_date"], "users")
    require_columns(purchases, ["user_id", "txn_date", "revenue"], "purchases")
    # Each user counts only in the months their cohort has reached, in numerator and denominator alike,
    # so young cohorts neither dilute nor inflate the older months of the curve. A user's revenue of
    # month k is in their cumulative revenue of every month from k to their cohort's age: it is added
    # at k and taken off after the age, and a running sum per channel gives the total over the users
    # still counted, without a row per user and month.
    ages = users.filter(pl.col("signup_date") <= as_of).select(
        "user_id", "acquisition_channel", "signup_date",
        _months_between(pl.col("signup_date"), pl.lit(as_of)).alias("age"))
    counted = (
        purchases.join(ages, on="user_id", how="inner")
        .filter(pl.col("txn_date").is_between(pl.col("signup_date"), pl.lit(as_of)))
        .select("acquisition_channel", _months_between(pl.col("signup_date"), pl.col("txn_date")).alias("month"),
                "age", pl.col("revenue").cast(pl.Float64))
    )
    steps = pl.concat([
        counted.select("acquisition_channel", "month", pl.col("revenue").alias("change")),
        counted.select("acquisition_channel", (pl.col("age") + 1).alias("month"), (-pl.col("revenue")).alias("change")),
    ]).group_by("acquisition_channel", "month").agg(pl.col("change").sum())
    reached = ages.group_by("acquisition_channel", "age").agg(pl.len().alias("reached"))
    months = (
        ages.group_by("acquisition_channel").agg(pl.int_range(0, pl.col("age").max() + 1).alias("month"))
        .explode("month", empty_as_null=True).with_columns(pl.col("month").cast(pl.Int64))
    )
    curve = (
        months.join(steps, on=["acquisition_channel", "month"], how="left")
        .join(reached.rename({"age": "month"}), on=["acquisition_channel", "month"], how="left")
        .sort("acquisition_channel", "month", descending=[False, True])
        # Users old enough for a month: those whose age is that month or more.
        .with_columns(pl.col("reached").fill_null(0).cum_sum().over("acquisition_channel").alias("users"))
        .sort("acquisition_channel", "month")
        .with_columns(pl.col("change").fill_null(0.0).cum_sum().over("acquisition_channel").alias("cumulative"))
    )
    return (
        curve.with_columns(pl.col("users").cast(pl.Int64),
                           (pl.col("cumulative") / pl.col("users")).alias("cumulative_revenue_per_user"))
        .join(_cac(users, spend), on="acquisition_channel", how="left")
        .sort("acquisition_channel", "month")
        .select("acquisition_channel", "month", "users", "cumulative_revenue_per_user", "cac")
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
        users (KYC among users with a known status, default among borrowers); ``risk_adjusted_roi`` is
        (total risk-adjusted CLV - spend) / spend; ``payback_months`` is the first month since signup
        when cumulative revenue per user reaches CAC (only on "all" rows; null if not yet reached).
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
        payback.filter(pl.col("cac").is_not_null() & (pl.col("cumulative_revenue_per_user") >= pl.col("cac")))
        .group_by("acquisition_channel").agg(pl.col("month").min().alias("payback_months"))
        .with_columns(pl.lit(ALL_COHORTS).alias("cohort"))
    )
    return (
        pl.concat([by_cohort, overall], how="diagonal_relaxed")
        .join(paid_back, on=["acquisition_channel", "cohort"], how="left")
        .with_columns(
            (pl.col("spend") / pl.col("users")).alias("cac"),
            (pl.col("mean_clv") / (pl.col("spend") / pl.col("users"))).alias("ltv_to_cac"),
            ((pl.col("mean_risk_adjusted_clv") * pl.col("users") - pl.col("spend")) / pl.col("spend"))
            .alias("risk_adjusted_roi"),
        )
        .with_columns(pl.when(pl.col("spend") > 0).then(pl.col(c)).alias(c) for c in ("cac", "ltv_to_cac", "risk_adjusted_roi"))
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


def _cac(users: pl.DataFrame, spend: pl.DataFrame) -> pl.DataFrame:
    acquired = users.group_by("acquisition_channel").agg(pl.len().alias("acquired"))
    spent = spend.group_by(pl.col("channel").alias("acquisition_channel")).agg(pl.col("spend").cast(pl.Float64).sum())
    return acquired.join(spent, on="acquisition_channel", how="left").select(
        "acquisition_channel", pl.when(pl.col("spend") > 0).then(pl.col("spend") / pl.col("acquired")).alias("cac"))


def _months_between(earlier: pl.Expr, later: pl.Expr) -> pl.Expr:
    """Whole calendar months from the earlier date's month to the later date's month."""
    return ((later.dt.year() - earlier.dt.year()) * 12 + later.dt.month() - earlier.dt.month()).cast(pl.Int64)
