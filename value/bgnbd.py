"""BG/NBD model of repeat-purchase counts (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import quad_vec
from scipy.special import digamma, expit, gammaln, hyp2f1

from value._arrays import check_rfm
from value._mle import fit_repeat_purchase_model, rate_start

PARAMETER_NAMES = ("r", "alpha", "a", "b")
# The conditional expectation has a removable singularity at a = 1; near it we average
# the two sides, which is exact to O(step^2).
_A_SINGULARITY_STEP = 1e-5



def _start(x: NDArray[np.float64], t_cal: NDArray[np.float64]) -> NDArray[np.float64]:
    mean_t, mean_rate = rate_start(x, t_cal)
    return np.array([1.0, 1.0 / mean_rate, 1.0, 1.0])


class BetaGeoModel:
    """Beta-geometric/NBD model: Poisson purchasing with geometric drop-out after each repeat purchase.

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

    name = "bg_nbd"
    parameter_names = PARAMETER_NAMES

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BetaGeoModel:
        """Fit by maximum likelihood; returns self.

        Raises:
            ModelFitError: no customers, no repeat buyers, or a failed optimisation.
        """
        fitted, self.log_likelihood_, self.n_customers_, self.converged_ = fit_repeat_purchase_model(
            "BG/NBD", _CountLikelihood, self.penalizer, frequency, recency, T, _start)
        self.params_ = dict(zip(PARAMETER_NAMES, (float(value) for value in fitted), strict=True))
        return self

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> NDArray[np.float64]:
        """P(customer still active at T | frequency, recency, T); 1 for customers without repeat purchases."""
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
        return p_alive * _purchases_if_alive(r, alpha, a, b, x, t_cal, horizon)

    def expected_purchases_new_customer(self, t: float | ArrayLike) -> NDArray[np.float64]:
        """Expected number of repeat purchases in ``t`` time units after a customer's first purchase."""
        r, alpha, a, b = self._param_tuple()
        horizon = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if np.any(horizon < 0):
            raise ValueError("t must be non-negative")
        zeros = np.zeros_like(horizon)
        return _purchases_if_alive(r, alpha, a, b, zeros, zeros, horizon)

    def _param_tuple(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise RuntimeError("BetaGeoModel is not fitted; call fit() first")
        return tuple(self.params_[name] for name in PARAMETER_NAMES)  # type: ignore[return-value]


def _log_dropout_odds(r, alpha, a, b, x, t_x, t_cal) -> NDArray[np.float64]:
    """log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x): odds that the customer already dropped out."""
    repeat = x > 0
    # b + x - 1 is only used where x >= 1, where it is >= b > 0.
    safe_b = np.where(repeat, b + x - 1.0, 1.0)
    log_odds = np.log(a) - np.log(safe_b) + (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_x))
    return np.where(repeat, log_odds, -np.inf)


def _purchases_if_alive(r, alpha, a, b, x, t_cal, horizon) -> NDArray[np.float64]:
    """Expected purchases in (T, T + t] for a customer known to be alive at T."""
    if abs(a - 1.0) < _A_SINGULARITY_STEP:
        below = _purchases_if_alive_regular(r, alpha, a - _A_SINGULARITY_STEP, b, x, t_cal, horizon)
        above = _purchases_if_alive_regular(r, alpha, a + _A_SINGULARITY_STEP, b, x, t_cal, horizon)
        result = 0.5 * (below + above)
    else:
        result = _purchases_if_alive_regular(r, alpha, a, b, x, t_cal, horizon)
    # scipy's hyp2f1 returns NaN for very large r (near-homogeneous purchase rates), which the
    # optimiser reaches on data without rate heterogeneity, and loses every digit for very large a and b
    # (a drop-out probability the same for everybody: data with almost no drop-out yet, where the
    # likelihood is flat along a + b), returning 0 for a positive horizon; integrate numerically there.
    failed = ~np.isfinite(result) | ((horizon > 0) & (result <= 0))
    if np.any(failed):
        result = result.copy()
        result[failed] = _purchases_if_alive_by_quadrature(r, alpha, a, b, x[failed], t_cal[failed], horizon[failed])
    return result


def _purchases_if_alive_by_quadrature(r, alpha, a, b, x, t_cal, horizon) -> NDArray[np.float64]:
    """The same expectation as an integral over the drop-out probability p ~ Beta(a, b + x).

    Given p and the posterior rate, expected purchases are E[(1 - exp(-lambda p t)) / p]; with
    lambda ~ Gamma(r + x, alpha + T) this is (1 - (1 + p t / (alpha + T))^-(r + x)) / p. For a < 1 the
    substitution u = p^a removes the p^(a-1) singularity of the Beta density at 0; for a >= 1 the
    density is bounded and the integral runs over p itself, on the part of (0, 1) where the Beta
    density lives (its mean ± 12 standard deviations), so a nearly degenerate Beta is not missed.
    """
    scaled_horizon = horizon / (alpha + t_cal)
    shape = r + x
    if a >= 1.0:
        return _integral_over_p(a, b + x, shape, scaled_horizon)
    log_norm = gammaln(a + b + x) - gammaln(a + 1.0) - gammaln(b + x)

    def integrand(u: float) -> NDArray[np.float64]:
        p = u ** (1.0 / a)
        if p < 1e-300:
            return np.exp(log_norm) * shape * scaled_horizon
        expected_given_p = -np.expm1(-shape * np.log1p(p * scaled_horizon)) / p
        return np.exp(log_norm + (b + x - 1.0) * np.log1p(-p)) * expected_given_p if p < 1.0 else np.zeros_like(x)

    integral, _ = quad_vec(integrand, 0.0, 1.0, epsrel=1e-10)
    return integral


def _integral_over_p(a: float, b: NDArray[np.float64], shape: NDArray[np.float64],
                     scaled_horizon: NDArray[np.float64]) -> NDArray[np.float64]:
    """E[(1 - (1 + p s)^-shape) / p] for p ~ Beta(a, b) (a >= 1), elementwise over b, shape and s."""
    result = np.empty_like(scaled_horizon)
    # Customers with the same b (= b + x) share the Beta density: integrate once per distinct value.
    for value in np.unique(b):
        rows = b == value
        mean = a / (a + value)
        sd = np.sqrt(a * value / ((a + value) ** 2 * (a + value + 1.0)))
        low, high = max(mean - 12.0 * sd, 0.0), min(mean + 12.0 * sd, 1.0)
        log_norm = gammaln(a + value) - gammaln(a) - gammaln(value)
        row_shape, row_horizon = shape[rows], scaled_horizon[rows]

        def integrand(p: float, beta: float = value, norm: float = log_norm,
                      k: NDArray[np.float64] = row_shape, s: NDArray[np.float64] = row_horizon) -> NDArray[np.float64]:
            if p <= 0.0:
                return np.exp(norm) * k * s if a == 1.0 else np.zeros_like(s)
            if p >= 1.0:
                return np.zeros_like(s)
            density = np.exp(norm + (a - 1.0) * np.log(p) + (beta - 1.0) * np.log1p(-p))
            return density * -np.expm1(-k * np.log1p(p * s)) / p

        result[rows], _ = quad_vec(integrand, low, high, epsrel=1e-10)
    return result


def _purchases_if_alive_regular(r, alpha, a, b, x, t_cal, horizon) -> NDArray[np.float64]:
    # The paper's term ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; z) is rewritten
    # with Euler's transformation as (1-z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z): the original
    # multiplies a huge 2F1 by a tiny power for heavy buyers and long horizons, the
    # transformed one keeps both factors of moderate size.
    z = horizon / (alpha + t_cal + horizon)
    c = a + b + x - 1.0
    # Where the closed form breaks down (NaN, inf times 0) the caller integrates numerically instead.
    with np.errstate(invalid="ignore", over="ignore"):
        hypergeometric = hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
        decay = np.exp((a - 1.0) * np.log1p(-z))
        result = c / (a - 1.0) * (1.0 - decay * hypergeometric)
    return np.where(horizon > 0, result, 0.0)


class _CountLikelihood:
    """Total BG/NBD log-likelihood and its gradient in (r, alpha, a, b).

    The gamma-function terms depend on the frequency alone, so they are evaluated once per
    distinct frequency; only the two-branch mixture term needs every (x, t_x, T) row.
    """

    def __init__(
        self, x: NDArray[np.float64], t_x: NDArray[np.float64], t_cal: NDArray[np.float64], weights: NDArray[np.float64]
    ) -> None:
        self.x, self.t_x, self.t_cal, self.weights = x, t_x, t_cal, weights
        self.total_weight = float(weights.sum())
        self.distinct_x, self.x_index = np.unique(x, return_inverse=True)
        self.distinct_weights = np.bincount(self.x_index, weights=weights)
        self.repeat = x > 0

    def __call__(self, params: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        r, alpha, a, b = params
        xs, counts, w = self.distinct_x, self.distinct_weights, self.weights
        # Only used where x >= 1, where b + x - 1 >= b > 0.
        log_b_x = np.log(np.where(xs > 0, b + xs - 1.0, 1.0))[self.x_index]
        r_x = r + self.x
        log_alpha_t = np.log(alpha + self.t_cal)
        log_alpha_tx = np.log(alpha + self.t_x)
        alive_term = -r_x * log_alpha_t
        dead_term = np.where(self.repeat, np.log(a) - log_b_x - r_x * log_alpha_tx, -np.inf)
        mixture = np.logaddexp(alive_term, dead_term)
        per_x = gammaln(r + xs) + gammaln(b + xs) - gammaln(a + b + xs)
        log_lik = (
            counts @ per_x
            + self.total_weight * (r * np.log(alpha) - gammaln(r) + gammaln(a + b) - gammaln(b))
            + w @ mixture
        )

        # Posterior weights of the two mixture branches ("still alive" vs "dropped after t_x").
        weight_alive = np.exp(alive_term - mixture)
        weight_dead = 1.0 - weight_alive
        digamma_ab = digamma(a + b)
        digamma_abx = counts @ digamma(a + b + xs)
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
            + counts @ digamma(b + xs)
            - digamma_abx
            - w @ (weight_dead * np.exp(-log_b_x))
        )
        return float(log_lik), np.array([grad_r, grad_alpha, grad_a, grad_b])
