"""Lifetime value of every user: fit the transaction and spend models, score, and check on a holdout.

`fit_lifetime_value` fits BG/NBD, Pareto/NBD and MBG/NBD on purchases up to the as-of date, keeps the
best by log-likelihood, fits Gamma-Gamma for the value per transaction (or, when spend is too heavy-tailed
for it, q <= 1, a shrunk-mean spend model, and says so), and scores every user over the horizon.
`check_holdout` refits the chosen model on the earlier part of history and compares its predictions with
the rest. Both are pure: frames in, frames and notes out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from value.clv import PARAMETERS_SCHEMA, customer_lifetime_value, parameters_frame
from value.errors import ModelFitError
from value.gamma_gamma import GammaGammaModel
from value.holdout import calibration_holdout_split, holdout_by_frequency, holdout_cumulative
from value.model_selection import CANDIDATES_SCHEMA, default_candidates, select_transaction_model
from value.rfm_summary import rfm_summary
from value.shrunk_mean_spend import ShrunkMeanSpendModel

WEEK_DAYS = 7.0
MIN_HOLDOUT_WEEKS = 4
MAX_DEFAULT_HOLDOUT_WEEKS = 39  # the BG/NBD paper's 39 + 39 weeks
SCORES_SCHEMA = {"user_id": pl.String, "p_alive": pl.Float64, "expected_txns": pl.Float64,
                 "expected_value": pl.Float64, "clv": pl.Float64}
HOLDOUT_TRACKING_SCHEMA = {"week": pl.Int64, "period_end": pl.Date, "actual_cumulative": pl.Float64,
                           "predicted_cumulative": pl.Float64, "actual_holdout": pl.Float64,
                           "predicted_holdout": pl.Float64, "model": pl.String}
HOLDOUT_FREQUENCY_SCHEMA = {"frequency_bucket": pl.String, "min_frequency": pl.Int64, "users": pl.Int64,
                            "actual_mean": pl.Float64, "predicted_mean": pl.Float64, "actual_total": pl.Float64,
                            "predicted_total": pl.Float64, "model": pl.String}


@dataclass(frozen=True)
class LifetimeValueFit:
    parameters: pl.DataFrame  # one row per model parameter, `chosen` and `value_basis`
    candidates: pl.DataFrame  # one row per transaction model: log-likelihood, AIC, converged, chosen
    user_clv: pl.DataFrame  # one row per user
    customers: int  # users with at least one purchase
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HoldoutCheck:
    tracking: pl.DataFrame  # one row per holdout week
    by_frequency: pl.DataFrame  # one row per calibration-frequency bucket
    summary: str | None = None  # one line for the log when the check ran
    notes: list[str] = field(default_factory=list)


def fit_lifetime_value(purchases: pl.DataFrame, users: pl.DataFrame, as_of: date, horizon_days: int,
                       value_basis: str) -> LifetimeValueFit:
    """Fit every model and score every user.

    Args:
        purchases: `user_id`, `txn_date`, `amount` (the value per transaction, Float64).
        users: `user_id` of every profiled user (scored; users without purchases get zero).
        as_of: the end of observation.
        horizon_days: the CLV horizon.
        value_basis: what `amount` is ("revenue" or "amount"), recorded with the parameters.
    """
    notes: list[str] = []
    summary = rfm_summary(purchases, observation_end=as_of, time_unit_days=WEEK_DAYS)
    parameters = pl.DataFrame(schema={**PARAMETERS_SCHEMA, "chosen": pl.Boolean, "value_basis": pl.String})
    candidates = pl.DataFrame(schema=CANDIDATES_SCHEMA)
    scores = pl.DataFrame(schema=SCORES_SCHEMA)
    try:
        selection = _select_model(summary, notes)
        candidates = selection.candidates
        spend_model = _fit_spend_model(summary, value_basis, notes)
        parameters = parameters_frame([*selection.fitted.values(), spend_model], WEEK_DAYS).with_columns(
            pl.col("model").is_in([selection.model.name, spend_model.name]).alias("chosen"),
            pl.lit(value_basis).alias("value_basis"))
        scores = customer_lifetime_value(selection.model, spend_model, summary, horizon_days / WEEK_DAYS)
    except ModelFitError as error:
        notes.append(f"lifetime value not computed: {error}")
    user_clv = (
        users.join(scores, on="user_id", how="left")
        .with_columns(pl.col("expected_txns").fill_null(0.0), pl.col("clv").fill_null(0.0),
                      pl.lit(horizon_days).alias("horizon_days"))
        .sort("user_id")
    )
    return LifetimeValueFit(parameters, candidates, user_clv, summary.height, notes)


def _select_model(summary: pl.DataFrame, notes: list[str]):
    """Every transaction model, the best by likelihood chosen; convergence warnings go into `notes`."""
    with warnings.catch_warnings(record=True) as fit_warnings:
        warnings.simplefilter("always", RuntimeWarning)
        selection = select_transaction_model(summary)
    notes.extend(str(w.message) for w in fit_warnings if issubclass(w.category, RuntimeWarning))
    notes.extend(f"{name} not fitted: {error}" for name, error in
                 selection.candidates.filter(pl.col("error").is_not_null()).select("model", "error").iter_rows())
    return selection


def _fit_spend_model(summary: pl.DataFrame, value_basis: str, notes: list[str]):
    """Gamma-Gamma, or the shrunk-mean fallback when spend is too heavy-tailed (noted)."""
    repeat = summary.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))
    try:
        return GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])
    except ModelFitError as error:
        spend_model = ShrunkMeanSpendModel().fit(repeat["frequency"], repeat["monetary_value"])
        notes.append(f"{error}; value per transaction uses each user's mean {value_basis} shrunk towards "
                     f"the population mean ({spend_model.params_['population_mean']:.2f}) instead")
        return spend_model


def check_holdout(purchases: pl.DataFrame, chosen_model: str | None, as_of: date,
                  holdout_weeks: int | None = None) -> HoldoutCheck:
    """Refit the chosen transaction model on the calibration period and compare with the holdout.

    The holdout is the last `holdout_weeks` weeks before the as-of date (default: half the history, at
    most 39 weeks, as in the BG/NBD paper); fewer than 4 holdout weeks is too little to judge and is noted.

    Args:
        purchases: `user_id`, `txn_date`, `amount`.
        chosen_model: the name of the transaction model chosen by `fit_lifetime_value`, None if none.
        as_of: the end of the holdout.
        holdout_weeks: weeks to hold out; None for the default.
    """
    empty = HoldoutCheck(pl.DataFrame(schema=HOLDOUT_TRACKING_SCHEMA), pl.DataFrame(schema=HOLDOUT_FREQUENCY_SCHEMA))
    first_day = purchases["txn_date"].min() if purchases.height else None
    history_weeks = (as_of - first_day).days // 7 if first_day else 0
    weeks = holdout_weeks or min(MAX_DEFAULT_HOLDOUT_WEEKS, history_weeks // 2)
    if chosen_model is None:
        return HoldoutCheck(empty.tracking, empty.by_frequency, notes=["holdout check not run: no transaction model was fitted"])
    if weeks < MIN_HOLDOUT_WEEKS:
        return HoldoutCheck(empty.tracking, empty.by_frequency, notes=[
            f"holdout check not run: {history_weeks} week(s) of history leave less than 4 weeks to hold out"])
    calibration_end = as_of - timedelta(weeks=weeks)
    split = calibration_holdout_split(purchases, calibration_end, as_of, time_unit_days=WEEK_DAYS)
    model = next(m for m in default_candidates() if m.name == chosen_model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model.fit(split.frame["frequency"], split.frame["recency"], split.frame["T"])
        tracking = holdout_cumulative(model, split, purchases).select(
            pl.col("period").alias("week"), "period_end", "actual_cumulative", "predicted_cumulative",
            "actual_holdout", "predicted_holdout", pl.lit(model.name).alias("model"))
        by_frequency = holdout_by_frequency(model, split).with_columns(pl.lit(model.name).alias("model"))
    except ModelFitError as error:
        return HoldoutCheck(empty.tracking, empty.by_frequency, notes=[f"holdout check not run: {error}"])
    summary = (f"holdout check ({model.name}, calibration to {calibration_end}, {weeks} weeks held out): "
               f"actual {tracking['actual_holdout'][-1]:,.0f} vs predicted {tracking['predicted_holdout'][-1]:,.0f}")
    return HoldoutCheck(tracking, by_frequency, summary)
