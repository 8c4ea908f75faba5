"""Fallback spend model for when Gamma-Gamma cannot be fitted (q <= 1: spend too heavy-tailed).

Each customer's expected value per transaction is their observed mean repeat spend, pulled towards the
population mean with the weight of `prior_transactions` pseudo-purchases. Customers with no repeat
purchase get the population mean. It is the same credibility form as Gamma-Gamma's posterior mean, with
the weight fixed instead of learned, and no distributional assumption on the tail.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from value._arrays import as_float_array
from value.errors import ModelFitError


class ShrunkMeanSpendModel:
    """Credibility-weighted mean spend per customer.

    Args:
        prior_transactions: how many purchases' worth of weight the population mean carries.

    Attributes:
        params_: ``{"population_mean", "prior_transactions"}``.
        log_likelihood_: NaN (not a likelihood model).
        n_customers_: repeat buyers the population mean was taken over.
        converged_: always True.
    """

    name = "shrunk_mean_spend"

    def __init__(self, prior_transactions: float = 2.0) -> None:
        self.prior_transactions = prior_transactions

    def fit(self, frequency: ArrayLike, monetary_value: ArrayLike) -> ShrunkMeanSpendModel:
        if self.prior_transactions < 0:
            raise ValueError("prior_transactions must be non-negative")
        x = as_float_array(frequency, "frequency")
        m = as_float_array(monetary_value, "monetary_value")
        repeat = x > 0
        if not repeat.any():
            raise ModelFitError("shrunk mean spend: no repeat buyers to take a population mean over")
        # Transaction-weighted, so the population mean is the mean repeat purchase value.
        population_mean = float(np.sum(x[repeat] * m[repeat]) / np.sum(x[repeat]))
        self.params_ = {"population_mean": population_mean, "prior_transactions": float(self.prior_transactions)}
        self.log_likelihood_ = math.nan
        self.n_customers_ = int(repeat.sum())
        self.converged_ = True
        return self

    def expected_average_value(self, frequency: ArrayLike, monetary_value: ArrayLike) -> NDArray[np.float64]:
        if not hasattr(self, "params_"):
            raise RuntimeError("ShrunkMeanSpendModel is not fitted; call fit() first")
        x = as_float_array(frequency, "frequency")
        m = as_float_array(monetary_value, "monetary_value")
        x, m = np.broadcast_arrays(x, m)
        k, mean = self.params_["prior_transactions"], self.params_["population_mean"]
        own_total = np.where(x > 0, x * m, 0.0)
        return (own_total + k * mean) / (x + k) if k > 0 else np.where(x > 0, m, mean)
