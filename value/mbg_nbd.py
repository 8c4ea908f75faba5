"""MBG/NBD model of repeat-purchase counts (Batislam, Denizel & Filiztekin 2007).

The BG/NBD with one change: a customer may also drop out right after the first purchase, so
drop-out chances come at time 0 and after every repeat purchase (x + 1 chances, not x).
Customers without repeat purchases can therefore be inactive, which BG/NBD rules out. The
formulation (likelihood, P(alive), conditional expectation) is that of ``lifetimes``'
``ModifiedBetaGeoFitter``.

Given that a customer is alive at T, the future is a BG/NBD process whose drop-out
probability has the posterior Beta(a, b + x + 1) instead of BG/NBD's Beta(a, b + x); the
conditional expectation is therefore BG/NBD's with b replaced by b + 1, and its numerics
(transformed hypergeometric, a = 1 continuity, quadrature fallback) are shared.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, expit, gammaln

from value._arrays import check_rfm
from value._mle import fit_repeat_purchase_model, rate_start
from value.bgnbd import _purchases_if_alive

PARAMETER_NAMES = ("r", "alpha", "a", "b")



def _start(x: NDArray[np.float64], t_cal: NDArray[np.float64]) -> NDArray[np.float64]:
    mean_t, mean_rate = rate_start(x, t_cal)
    return np.array([1.0, 1.0 / mean_rate, 1.0, 1.0])


class ModifiedBetaGeoModel:
    """Modified beta-geometric/NBD model: Poisson purchasing, geometric drop-out at the first and every repeat purchase.

    Time is measured in whatever unit the summary uses (weeks in the papers). Fitting is by
    maximum likelihood on log-parameters, with identical (frequency, recency, T) rows grouped.

    Args:
        penalizer: L2 penalty on the parameters, added to the mean negative log-likelihood
            (same convention as ``lifetimes``). 0 gives the plain maximum-likelihood fit.

    Attributes:
        params_: fitted ``{"r", "alpha", "a", "b"}``.
        log_likelihood_: total log-likelihood at the fit (unpenalised, unscaled).
        n_customers_: number of customers fitted.
        converged_: optimiser reported success and no parameter is on its search bound
            (a fit ending at a stationary point without that is kept, with a RuntimeWarning).
    """

    name = "mbg_nbd"
    parameter_names = PARAMETER_NAMES

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> ModifiedBetaGeoModel:
        """Fit by maximum likelihood; returns self.

        Raises:
            ModelFitError: no customers, no repeat buyers, or a failed optimisation.
        """
        fitted, self.log_likelihood_, self.n_customers_, self.converged_ = fit_repeat_purchase_model(
            "MBG/NBD", _ModifiedCountLikelihood, self.penalizer, frequency, recency, T, _start)
        self.params_ = dict(zip(PARAMETER_NAMES, (float(value) for value in fitted), strict=True))
        return self

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> NDArray[np.float64]:
        """P(customer still active at T | frequency, recency, T); below 1 also without repeat purchases."""
        r, alpha, a, b = self._param_tuple()
        x, t_x, t_cal = check_rfm(frequency, recency, T)
        return expit(-_log_dropout_odds(r, alpha, a, b, x, t_x, t_cal))

    def expected_purchases(
        self, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> NDArray[np.float64]:
        """Expected number of purchases in the next ``t`` time units, given each customer's history.

        ``t`` and the customer arrays broadcast against each other.
        """
        r, alpha, a, b = self._param_tuple()
        x, t_x, t_cal = check_rfm(frequency, recency, T)
        horizon, x, t_x, t_cal = np.broadcast_arrays(np.asarray(t, dtype=np.float64), x, t_x, t_cal)
        if np.any(horizon < 0):
            raise ValueError("t must be non-negative")
        p_alive = expit(-_log_dropout_odds(r, alpha, a, b, x, t_x, t_cal))
        return p_alive * _purchases_if_alive(r, alpha, a, b + 1.0, x, t_cal, horizon)

    def expected_purchases_new_customer(self, t: float | ArrayLike) -> NDArray[np.float64]:
        """Expected number of repeat purchases in ``t`` time units after a customer's first purchase.

        b / (a + b) is the chance of surviving the drop-out right after the first purchase.
        """
        r, alpha, a, b = self._param_tuple()
        horizon = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if np.any(horizon < 0):
            raise ValueError("t must be non-negative")
        zeros = np.zeros_like(horizon)
        return b / (a + b) * _purchases_if_alive(r, alpha, a, b + 1.0, zeros, zeros, horizon)

    def _param_tuple(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise RuntimeError("ModifiedBetaGeoModel is not fitted; call fit() first")
        return tuple(self.params_[name] for name in PARAMETER_NAMES)  # type: ignore[return-value]


def _log_dropout_odds(r, alpha, a, b, x, t_x, t_cal) -> NDArray[np.float64]:
    """log of a/(b+x) * ((alpha+T)/(alpha+t_x))^(r+x): odds that the customer already dropped out."""
    return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_x))


class _ModifiedCountLikelihood:
    """Total MBG/NBD log-likelihood and its gradient in (r, alpha, a, b).

    L = B(a, b + x + 1)/B(a, b) * Gamma(r + x) alpha^r / Gamma(r)
        * [(alpha + T)^-(r + x) + a/(b + x) (alpha + t_x)^-(r + x)].
    The gamma-function terms depend on the frequency alone and are evaluated once per distinct
    frequency; only the two-branch mixture term needs every (x, t_x, T) row.
    """

    def __init__(
        self, x: NDArray[np.float64], t_x: NDArray[np.float64], t_cal: NDArray[np.float64], weights: NDArray[np.float64]
    ) -> None:
        self.x, self.t_x, self.t_cal, self.weights = x, t_x, t_cal, weights
        self.total_weight = float(weights.sum())
        self.distinct_x, self.x_index = np.unique(x, return_inverse=True)
        self.distinct_weights = np.bincount(self.x_index, weights=weights)

    def __call__(self, params: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        r, alpha, a, b = params
        xs, counts, w = self.distinct_x, self.distinct_weights, self.weights
        log_b_x = np.log(b + xs)[self.x_index]
        r_x = r + self.x
        log_alpha_t = np.log(alpha + self.t_cal)
        log_alpha_tx = np.log(alpha + self.t_x)
        alive_term = -r_x * log_alpha_t
        dead_term = np.log(a) - log_b_x - r_x * log_alpha_tx
        mixture = np.logaddexp(alive_term, dead_term)
        per_x = gammaln(r + xs) + gammaln(b + xs + 1.0) - gammaln(a + b + xs + 1.0)
        log_lik = (
            counts @ per_x
            + self.total_weight * (r * np.log(alpha) - gammaln(r) + gammaln(a + b) - gammaln(b))
            + w @ mixture
        )

        weight_alive = np.exp(alive_term - mixture)
        weight_dead = 1.0 - weight_alive
        digamma_ab = digamma(a + b)
        digamma_abx = counts @ digamma(a + b + xs + 1.0)
        grad_r = (
            counts @ digamma(r + xs)
            + self.total_weight * (np.log(alpha) - digamma(r))
            - w @ (weight_alive * log_alpha_t + weight_dead * log_alpha_tx)
        )
        grad_alpha = self.total_weight * r / alpha - w @ (
            r_x * (weight_alive / (alpha + self.t_cal) + weight_dead / (alpha + self.t_x))
        )
        grad_a = self.total_weight * digamma_ab - digamma_abx + (w @ weight_dead) / a
        grad_b = (
            self.total_weight * (digamma_ab - digamma(b))
            + counts @ digamma(b + xs + 1.0)
            - digamma_abx
            - w @ (weight_dead * np.exp(-log_b_x))
        )
        return float(log_lik), np.array([grad_r, grad_alpha, grad_a, grad_b])
