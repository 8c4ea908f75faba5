"""Gamma-Gamma model of average transaction value (Fader, Hardie & Lee 2005, "RFM and CLV").

Which monetary value reproduces the published CDNOW fit (p = 6.25, q = 3.74, v = 15.44,
LL = -4055.9 on 946 repeat buyers): the mean value of the *repeat purchase days* in the
calibration period, after merging same-day purchases and excluding the first purchase day,
i.e. ``monetary_value`` from :func:`value.rfm_summary.rfm_summary` (it equals the ``zbar`` column
shipped with ``lifetimes``). Including the first purchase in the mean, or averaging unmerged
same-day transactions, moves the parameters by more than the published precision
(see ``tests/value/test_value_gamma_gamma.py``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from value._arrays import as_float_array, group_identical_rows
from value._mle import maximise_likelihood
from value.errors import ModelFitError

PARAMETER_NAMES = ("p", "q", "v")


class GammaGammaModel:
    """Gamma-Gamma spend model: transaction values Gamma(p, nu), nu ~ Gamma(q, v) across customers.

    Args:
        penalizer: L2 penalty on the parameters, added to the mean negative log-likelihood.

    Attributes:
        params_: fitted ``{"p", "q", "v"}``.
        log_likelihood_: total log-likelihood at the fit (unpenalised, unscaled).
        n_customers_: number of repeat buyers fitted.
        converged_: optimiser reported success and no parameter is on its search bound
            (a fit ending at a stationary point without that is kept, with a RuntimeWarning).
    """

    name = "gamma_gamma"

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGammaModel:
        """Fit on the repeat buyers (frequency > 0) among the given customers; returns self.

        Raises:
            ModelFitError: fewer than two repeat buyers, non-positive monetary values among
                repeat buyers, a failed optimisation, or q <= 1 (population mean undefined).
        """
        if self.penalizer < 0:
            raise ValueError("penalizer must be non-negative")
        x_all = as_float_array(frequency, "frequency")
        m_all = as_float_array(monetary_value, "monetary_value")
        if x_all.shape != m_all.shape:
            raise ValueError("frequency and monetary_value must have the same length")
        repeat = x_all > 0
        x, m = x_all[repeat], m_all[repeat]
        if x.size < 2:
            raise ModelFitError(f"Gamma-Gamma: needs at least 2 repeat buyers (frequency > 0), got {x.size}")
        if np.any(m <= 0):
            raise ModelFitError(
                f"Gamma-Gamma: {int(np.sum(m <= 0))} repeat buyer(s) have monetary_value <= 0; "
                "the model needs positive spend (filter or floor them explicitly)"
            )
        if np.ptp(m) == 0 and np.ptp(x) == 0:
            raise ModelFitError("Gamma-Gamma: all repeat buyers have identical spend; the model is not identified")
        (x_u, m_u), weights = group_identical_rows(x, m)
        likelihood = _SpendLikelihood(x_u, m_u, weights)

        def objective(log_params: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            params = np.exp(log_params)
            log_lik, gradient = likelihood(params)
            value = -log_lik / likelihood.total_weight + self.penalizer * np.sum(params**2)
            grad = -gradient / likelihood.total_weight + 2.0 * self.penalizer * params
            return float(value), grad * params

        # Start from a population mean matching the data: p v / (q - 1) = mean spend.
        start = np.array([1.0, 3.0, 2.0 * float(np.mean(m))])
        fitted, converged = maximise_likelihood(objective, start, "Gamma-Gamma")
        p, q, v = fitted
        if q <= 1.0:
            raise ModelFitError(
                f"Gamma-Gamma: fitted q = {q:.4g} <= 1, so the population mean spend p*v/(q-1) is undefined; "
                "spend is too heavy-tailed for this model"
            )
        self.params_ = {"p": float(p), "q": float(q), "v": float(v)}
        self.log_likelihood_ = likelihood(fitted)[0]
        self.n_customers_ = int(x.size)
        self.converged_ = converged
        return self

    def expected_average_value(self, frequency: ArrayLike, monetary_value: ArrayLike) -> NDArray[np.float64]:
        """E[average transaction value | frequency, monetary_value]; p*v/(q-1) for frequency 0."""
        if not hasattr(self, "params_"):
            raise RuntimeError("GammaGammaModel is not fitted; call fit() first")
        p, q, v = (self.params_[name] for name in PARAMETER_NAMES)
        x = as_float_array(frequency, "frequency")
        m = as_float_array(monetary_value, "monetary_value")
        x, m = np.broadcast_arrays(x, m)
        # A weighted average of the population mean and the customer's own mean;
        # customers without repeats carry no own evidence.
        own_mean = np.where(x > 0, m, 0.0)
        return p * (v + x * own_mean) / (p * x + q - 1.0)


class _SpendLikelihood:
    """Total log-likelihood of the Gamma-Gamma model and its gradient in (p, q, v).

    Only the term -(p x + q) log(v + x m) needs every customer at each evaluation; the gamma
    functions depend on x alone and are evaluated once per distinct frequency, and the
    log m terms are linear in p, so their sums are computed once.
    """

    def __init__(self, x: NDArray[np.float64], m: NDArray[np.float64], weights: NDArray[np.float64]) -> None:
        self.x, self.m, self.weights = x, m, weights
        self.total_weight = float(weights.sum())
        self.distinct_x, x_index = np.unique(x, return_inverse=True)
        self.distinct_weights = np.bincount(x_index, weights=weights)
        log_m = np.log(m)
        self.sum_x_log_m = float(weights @ (x * log_m))
        self.sum_log_m = float(weights @ log_m)
        self.sum_x_log_x = float(self.distinct_weights @ (self.distinct_x * np.log(self.distinct_x)))
        self.weighted_x = weights * x

    def __call__(self, params: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        p, q, v = params
        px = p * self.distinct_x
        counts = self.distinct_weights
        log_total = np.log(v + self.x * self.m)
        inverse_total = 1.0 / (v + self.x * self.m)
        sum_x_log_total = float(self.weighted_x @ log_total)
        sum_log_total = float(self.weights @ log_total)
        sum_x_inverse = float(self.weighted_x @ inverse_total)
        sum_inverse = float(self.weights @ inverse_total)
        log_lik = (
            counts @ (gammaln(px + q) - gammaln(px))
            + self.total_weight * (q * np.log(v) - gammaln(q))
            + p * (self.sum_x_log_m + self.sum_x_log_x)
            - self.sum_log_m
            - p * sum_x_log_total
            - q * sum_log_total
        )
        digamma_pxq = digamma(px + q)
        grad_p = counts @ (self.distinct_x * (digamma_pxq - digamma(px))) + self.sum_x_log_m + self.sum_x_log_x
        grad_p -= sum_x_log_total
        grad_q = counts @ digamma_pxq + self.total_weight * (np.log(v) - digamma(q)) - sum_log_total
        grad_v = self.total_weight * q / v - p * sum_x_inverse - q * sum_inverse
        return float(log_lik), np.array([grad_p, grad_q, grad_v])
