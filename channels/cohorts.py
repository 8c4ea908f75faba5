"""Channel economics per acquisition cohort: what a month's spend on a channel bought, and when it paid back.

The acquisition cohort of a converted user is the local calendar month of their conversion (their first
completed purchase by default: the month they became a customer). Finance matches a channel's spend in a
month with the customers it acquired that month, so a cohort's spend is the channel's spend in that
month, its conversions are the conversions of that month credited to the channel by an attribution model,
and its revenue to date is what those customers have earned since converting, weighted by the same credit.

Quality is measured on the same credit-weighted customers: KYC pass rate, repeat rate and default rate.
A first-transaction rate needs a denominator of signups who have not yet bought; every customer here has
bought, so that rate lives per signup cohort in ``marts.channel_quality`` (:mod:`channels.acquisition_quality`).

Pure library: Polars in, Polars out. The per-conversion credit comes from :func:`conversion_credit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from channels._columns import require_columns
from channels.attribution import ATTRIBUTION_MODELS, AttributionSettings, assign_credit

MONEY = pl.Decimal(18, 2)
CREDIT_PREFIX = "conversions_"
VALUE_PREFIX = "revenue_"

COHORT_ROI_SCHEMA = {
    "channel": pl.String, "cohort": pl.String, "attribution_model": pl.String, "cohort_age_months": pl.Int64,
    "spend": MONEY, "conversions": pl.Float64, "revenue": MONEY, "cac": MONEY, "roas": pl.Float64,
    "ltv": MONEY, "ltv_to_cac": pl.Float64, "revenue_to_date": MONEY, "payback_months": pl.Int64,
    "kyc_pass_rate": pl.Float64, "repeat_rate": pl.Float64, "default_rate": pl.Float64, "charged_off": MONEY,
    "risk_adjusted_value": MONEY, "risk_adjusted_roi": pl.Float64,
}
COHORT_PAYBACK_SCHEMA = {
    "channel": pl.String, "cohort": pl.String, "attribution_model": pl.String, "month": pl.Int64,
    "spend": MONEY, "cumulative_revenue": MONEY, "recovered": pl.Float64,
}
USER_COLUMNS = ["user_id", "clv", "risk_adjusted_clv", "kyc_passed", "borrower", "defaulted", "charged_off"]
_USER_SCHEMA = {"user_id": pl.String, "clv": pl.Float64, "risk_adjusted_clv": pl.Float64, "kyc_passed": pl.Boolean,
                "borrower": pl.Boolean, "defaulted": pl.Boolean, "charged_off": pl.Float64}
_KEYS = ["channel", "_cohort_start", "attribution_model"]


def conversion_credit(
    journeys: pl.DataFrame,
    models: Sequence[str] | None = None,
    *,
    non_converting: pl.DataFrame | None = None,
    settings: AttributionSettings | None = None,
) -> pl.DataFrame:
    """The credit every model gives each channel of each conversion, one row per conversion × channel.

    Wide on purpose: a row per conversion × channel with a column pair per model is a seventh of the rows
    of the long form, so it is cheap to store and to join with revenue.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.
        models: Model names; every key of :data:`ATTRIBUTION_MODELS` when None.
        non_converting: Non-converting paths, for the Markov model.
        settings: Model knobs; defaults when None.

    Returns:
        ``conversion_id``, ``user_id``, ``converted_at``, ``channel`` and, per model ``m``,
        ``conversions_m`` (credit, Float64) and ``revenue_m`` (value credit, Float64), sorted by
        conversion and channel. Summed by channel, the pair equals :func:`channels.attribution.attribute`.
    """
    names = list(ATTRIBUTION_MODELS) if models is None else list(models)
    keys = ["conversion_id", "channel"]
    credit = journeys.group_by(keys).agg(pl.col("user_id").first(), pl.col("converted_at").first())
    for name in names:
        credited = assign_credit(journeys, name, non_converting=non_converting, settings=settings)
        credit = credit.join(
            credited.group_by(keys).agg(
                pl.col("credit").sum().alias(f"{CREDIT_PREFIX}{name}"),
                pl.col("value_credit").sum().alias(f"{VALUE_PREFIX}{name}"),
            ),
            on=keys, how="left",
        )
    return credit.with_columns(pl.col("channel").cast(pl.String)).sort(keys)


def credit_models(credit: pl.DataFrame) -> list[str]:
    """The attribution models whose credit columns ``credit`` carries, in column order."""
    return [column.removeprefix(CREDIT_PREFIX) for column in credit.columns if column.startswith(CREDIT_PREFIX)]


def attributed_from_credit(credit: pl.DataFrame) -> pl.DataFrame:
    """Per channel × model totals of :func:`conversion_credit`: the output of ``attribute_all``."""
    models = credit_models(credit)
    totals = credit.group_by("channel").agg(
        pl.col(f"{CREDIT_PREFIX}{m}", f"{VALUE_PREFIX}{m}").sum() for m in models)
    return pl.concat([
        totals.select("channel", pl.lit(m, dtype=pl.String).alias("attribution_model"),
                      pl.col(f"{CREDIT_PREFIX}{m}").alias("conversions"), pl.col(f"{VALUE_PREFIX}{m}").alias("revenue"))
        .sort("channel")
        for m in models
    ])


def revenue_since_conversion(credit: pl.DataFrame, purchases: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Each converted user's revenue by month since their cohort month, from the conversion instant on.

    Args:
        credit: ``user_id``, ``converted_at`` and ``conversion_date`` (the conversion's local date), e.g.
            :func:`conversion_credit` with the date added; one conversion per user.
        purchases: Completed purchases: ``user_id``, ``occurred_at``, ``txn_date`` (local date), ``revenue``.
        as_of: Analysis date; later purchases are ignored.

    Returns:
        One row per converted user × month with a purchase at or after the conversion: ``user_id``,
        ``month`` (Int64, 0 = the conversion's month), ``revenue`` (Float64, summed), ``repeat`` (Boolean:
        a purchase after the conversion instant that month).
    """
    require_columns(credit, ["user_id", "converted_at", "conversion_date"], "credit")
    require_columns(purchases, ["user_id", "occurred_at", "txn_date", "revenue"], "purchases")
    converted = _one_conversion_per_user(credit)
    return (
        purchases.lazy()
        .join(converted.lazy(), on="user_id", how="inner")
        .filter((pl.col("occurred_at") >= pl.col("converted_at")) & (pl.col("txn_date") <= as_of))
        .group_by("user_id", _months_between(pl.col("conversion_date"), pl.col("txn_date")).alias("month"))
        .agg(pl.col("revenue").cast(pl.Float64).sum(),
             (pl.col("occurred_at") > pl.col("converted_at")).any().alias("repeat"))
        .sort("user_id", "month")
        .collect()
    )


def channel_cohort_roi(
    credit: pl.DataFrame,
    revenue: pl.DataFrame,
    spend: pl.DataFrame,
    users: pl.DataFrame | None,
    as_of: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Spend, attributed conversions and revenue, CAC, ROAS, LTV, payback, quality and risk-adjusted ROI per cohort.

    Rules (per channel × cohort month × attribution model):
        - ``cohort``: "YYYY-MM" of the conversion's local date; spend months without a conversion are cohorts too,
          so that spend reconciles. ``cohort_age_months``: whole calendar months from the cohort to ``as_of``.
        - ``spend``: the channel's spend dated in that month, up to ``as_of``; exact (DECIMAL).
        - ``conversions`` / ``revenue``: the model's credit and value credit of the month's conversions; across
          cohorts they sum to the channel's totals in ``marts.channel_roi``.
        - ``cac = spend / conversions`` (null without conversions); ``roas = revenue / spend`` (null without spend).
        - ``ltv``: credit-weighted mean ``clv`` of the cohort's customers (as ``marts.channel_roi`` computes it);
          ``ltv_to_cac = ltv / cac``.
        - ``revenue_to_date``: every completed purchase of the cohort's customers from their conversion up to
          ``as_of``, weighted by the credit the model gives the channel.
        - Payback curve: cumulative credit-weighted revenue at 0, 1, … months since the cohort month (up to its
          age) against the cohort's spend; ``payback_months`` is the first month it covers the spend (compared
          in cents), null when there is no spend or it is not covered by ``as_of``.
        - Quality, credit-weighted over the cohort's customers: ``kyc_pass_rate`` (among known statuses),
          ``repeat_rate`` (bought again after converting), ``default_rate`` (among borrowers; null without any).
        - ``risk_adjusted_value = revenue_to_date - charged_off + Σ credit × risk_adjusted_clv`` (earned so far,
          less losses already charged off, plus expected future value net of expected credit loss; null when no
          customer of the cohort has a value); ``risk_adjusted_roi = (risk_adjusted_value - spend) / spend``.

    Args:
        credit: Output of :func:`conversion_credit` (one conversion per user) with ``conversion_date``, the
            conversion's local date (``conversion_id`` and ``converted_at`` are not needed).
        revenue: Output of :func:`revenue_since_conversion` (or the same computed in SQL).
        spend: ``date``, ``channel``, ``spend``.
        users: ``USER_COLUMNS`` (``charged_off``: amount already charged off), or None when unknown.
        as_of: Analysis date; later spend is ignored.

    Returns:
        ``(cohort_roi, payback)`` with the columns of ``COHORT_ROI_SCHEMA`` and ``COHORT_PAYBACK_SCHEMA``, sorted
        by model, channel, cohort (and month).
    """
    require_columns(credit, ["user_id", "conversion_date", "channel"], "credit")
    require_columns(revenue, ["user_id", "month", "revenue", "repeat"], "revenue")
    require_columns(spend, ["date", "channel", "spend"], "marketing_spend")
    models = credit_models(credit)
    if not models:
        raise ValueError(f"credit has no {CREDIT_PREFIX}<model> column")
    if users is None:
        users = pl.DataFrame(schema=_USER_SCHEMA)
    require_columns(users, USER_COLUMNS, "users")
    _one_conversion_per_user(credit)

    credited = credit.with_columns(
        pl.col("channel").cast(pl.String), pl.col("conversion_date").dt.truncate("1mo").alias("_cohort_start"))
    by_month = (
        revenue.join(credited.select("user_id", "channel", "_cohort_start", *(CREDIT_PREFIX + m for m in models)),
                     on="user_id")
        .group_by("channel", "_cohort_start", "month")
        .agg((pl.col(CREDIT_PREFIX + m) * pl.col("revenue")).sum().alias(m) for m in models)
        .unpivot(on=models, index=["channel", "_cohort_start", "month"], variable_name="attribution_model",
                 value_name="revenue")
    )

    # Customer attributes join the wide credit (a row per conversion × channel); every model's credit-weighted
    # sums are taken in one pass over it, then stacked into one row per model.
    customers = credited.join(users.select(USER_COLUMNS), on="user_id", how="left").join(
        revenue.group_by("user_id").agg(pl.col("repeat").any().alias("_repeat")), on="user_id", how="left"
    ).select(
        "channel", "_cohort_start", *(CREDIT_PREFIX + m for m in models), *(VALUE_PREFIX + m for m in models),
        pl.col("clv").cast(pl.Float64).alias("_clv"),
        pl.col("clv").is_not_null().cast(pl.Float64).alias("_clv_weight"),
        pl.col("risk_adjusted_clv").cast(pl.Float64).alias("_risk_adjusted_clv"),
        pl.col("risk_adjusted_clv").is_not_null().cast(pl.Float64).alias("_valued_weight"),
        pl.col("kyc_passed").cast(pl.Float64).alias("_kyc"),
        pl.col("kyc_passed").is_not_null().cast(pl.Float64).alias("_kyc_weight"),
        pl.col("_repeat").fill_null(False).cast(pl.Float64),
        pl.col("borrower").fill_null(False).cast(pl.Float64).alias("_borrowers"),
        (pl.col("borrower") & pl.col("defaulted")).fill_null(False).cast(pl.Float64).alias("_defaults"),
        pl.col("charged_off").cast(pl.Float64).fill_null(0.0).alias("_charged_off"),
    )
    measures = ["_clv", "_clv_weight", "_risk_adjusted_clv", "_valued_weight", "_kyc", "_kyc_weight", "_repeat",
                "_borrowers", "_defaults", "_charged_off"]
    sums = customers.group_by("channel", "_cohort_start").agg(
        *(pl.col(CREDIT_PREFIX + m).sum().alias(f"{m}|conversions") for m in models),
        *(pl.col(VALUE_PREFIX + m).sum().alias(f"{m}|_revenue") for m in models),
        *((pl.col(CREDIT_PREFIX + m) * pl.col(x)).sum().alias(f"{m}|{x}") for m in models for x in measures),
    )
    cohorts = pl.concat([
        sums.select("channel", "_cohort_start", pl.lit(m, dtype=pl.String).alias("attribution_model"),
                    *(pl.col(f"{m}|{x}").alias(x) for x in ("conversions", "_revenue", *measures)))
        for m in models
    ])

    monthly_spend = (
        spend.filter(pl.col("date") <= as_of)
        .group_by(pl.col("channel").cast(pl.String), pl.col("date").dt.truncate("1mo").alias("_cohort_start"))
        .agg(pl.col("spend").cast(MONEY).sum().cast(MONEY))
    )
    grid = pl.concat([cohorts.select(_KEYS), monthly_spend.select("channel", "_cohort_start").join(
        pl.DataFrame({"attribution_model": models}), how="cross")]).unique(_KEYS).with_columns(
        _months_between(pl.col("_cohort_start"), pl.lit(as_of)).alias("cohort_age_months"))

    payback = (
        grid.with_columns(pl.int_ranges(0, pl.col("cohort_age_months") + 1).alias("month"))
        .explode("month", empty_as_null=False)
        .with_columns(pl.col("month").cast(pl.Int64))
        .join(by_month, on=[*_KEYS, "month"], how="left")
        .join(monthly_spend, on=["channel", "_cohort_start"], how="left")
        .with_columns(pl.col("spend").fill_null(pl.lit(0, dtype=MONEY)))
        .sort(*_KEYS, "month")
        .with_columns(pl.col("revenue").fill_null(0.0).cum_sum().over(_KEYS).alias("_cumulative"))
        .with_columns(pl.col("spend").cast(pl.Float64).alias("_spend"))
        .with_columns(
            pl.col("_cumulative").round(2).cast(MONEY).alias("cumulative_revenue"),
            pl.when(pl.col("_spend") > 0).then(pl.col("_cumulative") / pl.col("_spend")).alias("recovered"),
            # Both sides are whole cents: covered once the rounded revenue is within half a cent of the spend.
            ((pl.col("_spend") > 0) & (pl.col("_cumulative").round(2) >= pl.col("_spend") - 0.005)).alias("_covered"),
        )
    )
    paid_back = payback.group_by(_KEYS).agg(
        pl.col("month").filter(pl.col("_covered")).min().alias("payback_months"),
        pl.col("_cumulative").sort_by("month").last().alias("_to_date"),
    )

    roi = (
        grid.join(cohorts, on=_KEYS, how="left")
        .join(monthly_spend, on=["channel", "_cohort_start"], how="left")
        .join(paid_back, on=_KEYS, how="left")
        .with_columns(
            pl.col("spend").fill_null(pl.lit(0, dtype=MONEY)),
            pl.col("conversions").fill_null(0.0),
            pl.col("_revenue").fill_null(0.0),
            pl.col("_to_date").fill_null(0.0),
            pl.col("_charged_off").fill_null(0.0),
        )
        .with_columns(pl.col("spend").cast(pl.Float64).alias("_spend"))
        .with_columns(
            pl.when(pl.col("conversions") > 0).then(pl.col("_spend") / pl.col("conversions")).alias("_cac"),
            pl.when(pl.col("_clv_weight") > 0).then(pl.col("_clv") / pl.col("_clv_weight")).alias("_ltv"),
            pl.when((pl.col("conversions") > 0) & ~(pl.col("_valued_weight") > 0)).then(None)
            .otherwise(pl.col("_to_date") - pl.col("_charged_off") + pl.col("_risk_adjusted_clv").fill_null(0.0))
            .alias("_risk_adjusted_value"),
        )
        .with_columns(
            pl.when(pl.col("_spend") > 0).then(pl.col("_revenue") / pl.col("_spend")).alias("roas"),
            pl.when(pl.col("_cac") > 0).then(pl.col("_ltv") / pl.col("_cac")).alias("ltv_to_cac"),
            pl.when(pl.col("_kyc_weight") > 0).then(pl.col("_kyc") / pl.col("_kyc_weight")).alias("kyc_pass_rate"),
            pl.when(pl.col("conversions") > 0).then(pl.col("_repeat") / pl.col("conversions")).alias("repeat_rate"),
            pl.when(pl.col("_borrowers") > 0).then(pl.col("_defaults") / pl.col("_borrowers")).alias("default_rate"),
            pl.when(pl.col("_spend") > 0)
            .then((pl.col("_risk_adjusted_value") - pl.col("_spend")) / pl.col("_spend")).alias("risk_adjusted_roi"),
            *(pl.col(source).round(2).cast(MONEY).alias(target) for source, target in (
                ("_revenue", "revenue"), ("_cac", "cac"), ("_ltv", "ltv"), ("_to_date", "revenue_to_date"),
                ("_charged_off", "charged_off"), ("_risk_adjusted_value", "risk_adjusted_value"))),
        )
        .with_columns(pl.col("_cohort_start").dt.strftime("%Y-%m").alias("cohort"))
        .select(list(COHORT_ROI_SCHEMA))
        .cast(COHORT_ROI_SCHEMA)
        .sort("attribution_model", "channel", "cohort")
    )
    curve = (
        payback.with_columns(pl.col("_cohort_start").dt.strftime("%Y-%m").alias("cohort"))
        .select(list(COHORT_PAYBACK_SCHEMA))
        .cast(COHORT_PAYBACK_SCHEMA)
        .sort("attribution_model", "channel", "cohort", "month")
    )
    return roi, curve


def _one_conversion_per_user(credit: pl.DataFrame) -> pl.DataFrame:
    converted = credit.select("user_id", *(c for c in ("converted_at", "conversion_date") if c in credit.columns)).unique()
    if converted.height != converted["user_id"].n_unique():
        raise ValueError("credit must hold one conversion per user (the first)")
    return converted


def _months_between(earlier: pl.Expr, later: pl.Expr) -> pl.Expr:
    """Whole calendar months from the earlier date's month to the later date's month."""
    return ((later.dt.year() - earlier.dt.year()) * 12 + later.dt.month() - earlier.dt.month()).cast(pl.Int64)
