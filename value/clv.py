"""Per-user lifetime value from fitted BG/NBD and Gamma-Gamma models, and the parameter table."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from value.bgnbd import BetaGeoModel
from value.gamma_gamma import GammaGammaModel
from value.shrunk_mean_spend import ShrunkMeanSpendModel

_TIME_UNIT_NAMES = {7.0: "week", 1.0: "day"}


def customer_lifetime_value(
    bgnbd: BetaGeoModel,
    gamma_gamma: GammaGammaModel | ShrunkMeanSpendModel,
    summary: pl.DataFrame,
    horizon_units: float,
    discount_rate_per_unit: float = 0.0,
    discount_step_units: float = 1.0,
) -> pl.DataFrame:
    """Expected purchases, value per purchase and lifetime value over a horizon, per user.

    Args:
        bgnbd: fitted BG/NBD model (same time unit as ``summary``).
        gamma_gamma: fitted spend model (Gamma-Gamma, or the shrunk-mean fallback).
        summary: output of :func:`value.rfm_summary.rfm_summary`.
        horizon_units: horizon in the summary's time units.
        discount_rate_per_unit: discount rate per time unit; 0 disables discounting.
        discount_step_units: with discounting, purchases expected within each step of this many
            units are discounted at the step's end (``lifetimes`` uses monthly steps).

    Returns:
        One row per user, in ``summary`` order: ``user_id``, ``p_alive``, ``expected_txns``
        (undiscounted, over the horizon), ``expected_value`` (expected value per purchase) and
        ``clv`` (discounted expected_txns x expected_value), all Float64 except ``user_id``.
    """
    if horizon_units < 0:
        raise ValueError("horizon_units must be non-negative")
    if discount_rate_per_unit < 0 or discount_step_units <= 0:
        raise ValueError("discount_rate_per_unit must be >= 0 and discount_step_units > 0")
    frequency = summary["frequency"].to_numpy().astype(np.float64)
    recency = summary["recency"].to_numpy()
    T = summary["T"].to_numpy()
    p_alive = bgnbd.probability_alive(frequency, recency, T)
    expected_txns = bgnbd.expected_purchases(horizon_units, frequency, recency, T)
    expected_value = gamma_gamma.expected_average_value(frequency, summary["monetary_value"].to_numpy())
    discounted_txns = (
        expected_txns
        if discount_rate_per_unit == 0
        else _discounted_purchases(bgnbd, frequency, recency, T, horizon_units, discount_rate_per_unit,
                                   discount_step_units)
    )
    return pl.DataFrame(
        {
            "user_id": summary["user_id"],
            "p_alive": p_alive,
            "expected_txns": expected_txns,
            "expected_value": expected_value,
            "clv": discounted_txns * expected_value,
        }
    )


def _discounted_purchases(bgnbd, frequency, recency, T, horizon, rate, step) -> np.ndarray:
    # The loop runs over time steps, not customers: each step is one vectorised evaluation.
    n_steps = math.ceil(horizon / step - 1e-12)
    total = np.zeros_like(frequency)
    previous = np.zeros_like(frequency)
    for index in range(1, n_steps + 1):
        step_end = min(index * step, horizon)
        cumulative = bgnbd.expected_purchases(step_end, frequency, recency, T)
        total += (cumulative - previous) / (1.0 + rate) ** step_end
        previous = cumulative
    return total


def time_unit_name(time_unit_days: float) -> str:
    """Name of a time unit for the ``marts.clv_model`` table: "week", "day" or "<n>_days"."""
    return _TIME_UNIT_NAMES.get(float(time_unit_days), f"{time_unit_days:g}_days")


def model_parameters_frame(
    bgnbd: BetaGeoModel, gamma_gamma: GammaGammaModel | ShrunkMeanSpendModel | None = None,
    time_unit_days: float = 7.0,
) -> pl.DataFrame:
    """Fitted parameters in the ``marts.clv_model`` shape, one row per model parameter.

    ``bgnbd`` may be any fitted transaction model with a ``name`` (BG/NBD, Pareto/NBD, MBG/NBD).

    Returns:
        Columns ``model`` (str: the model's ``name``, e.g. "bg_nbd" / "gamma_gamma" /
        "shrunk_mean_spend"), ``parameter`` (str), ``value`` (Float64),
        ``log_likelihood`` (Float64, the model's total), ``customers`` (Int64, customers fitted),
        ``time_unit`` (str, see :func:`time_unit_name`), ``converged`` (Boolean).
    """
    return parameters_frame([bgnbd] + ([gamma_gamma] if gamma_gamma is not None else []), time_unit_days)


def parameters_frame(models: list, time_unit_days: float = 7.0) -> pl.DataFrame:
    """One row per parameter of every fitted model given, in the ``marts.clv_model`` shape."""
    rows = [
        {
            "model": model.name,
            "parameter": parameter,
            "value": value,
            "log_likelihood": model.log_likelihood_,
            "customers": model.n_customers_,
            "time_unit": time_unit_name(time_unit_days),
            "converged": model.converged_,
        }
        for model in models
        for parameter, value in model.params_.items()
    ]
    return pl.DataFrame(rows, schema=PARAMETERS_SCHEMA)


PARAMETERS_SCHEMA = {
    "model": pl.String,
    "parameter": pl.String,
    "value": pl.Float64,
    "log_likelihood": pl.Float64,
    "customers": pl.Int64,
    "time_unit": pl.String,
    "converged": pl.Boolean,
}
