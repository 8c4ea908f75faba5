"""Pareto/NBD model of repeat-purchase counts (Schmittlein, Morrison & Colombo 1987).

The likelihood follows Fader & Hardie, "A Note on Deriving the Pareto/NBD Model and Related
Expressions" (2005). Its drop-out term is written here as an integral over the unobserved
time of death tau in (t_x, T]:

    s * integral_{t_x}^{T} (alpha + tau)^-(r + x) (beta + tau)^-(s + 1) d tau,

the difference of two tail integrals I(t) = integral_t^inf (...) d tau. Each tail is a Gauss
hypergeometric function 2F1(1, A; A + B; z) with 0 <= z < 1 once the larger of alpha and beta
is put first (the note's two cases alpha >= beta and alpha < beta). With a = 1 the series has
positive terms only, so it is computed in log-space without cancellation; scipy's ``hyp2f1``
returns NaN for large A and z close to 1 (heavy buyers, alpha >> beta), and those entries
are integrated numerically instead.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import quad_vec
from scipy.special import digamma, exprel, expit, gammaln, hyp2f1

from value._arrays import check_rfm, unique_rows
from value._mle import fit_repeat_purchase_model, rate_start

PARAMETER_NAMES = ("r", "alpha", "s", "beta")
# Relative step of the central differences for d log I / d(exponent); the exponents enter
# the hypergeometric parameters, where no closed-form derivative exists.
_EXPONENT_STEP = 1e-5



def _start(x: NDArray[np.float64], t_cal: NDArray[np.float64]) -> NDArray[np.float64]:
    mean_t, mean_rate = rate_start(x, t_cal)
    # r = s = 1 with the scales matching the observed purchase rate and window length.
    return np.array([1.0, 1.0 / mean_rate, 1.0, max(mean_t, 1e-6)])


class ParetoNBDModel:
    """Pareto/NBD model: Poisson purchasing while alive, exponential lifetimes, gamma heterogeneity in both.

    Purchase rates are Gamma(r, alpha) and death rates Gamma(s, beta) across customers. Time is
    measured in the summary's unit (weeks in the papers). Fitting is by maximum likelihood on
    log-parameters, with identical (frequency, recency, T) rows grouped and the hypergeometric
    terms evaluated once per distinct (frequency, time) pair.

    Args:
        penalizer: L2 penalty on the parameters, added to the mean negative log-likelihood
            (same convention as ``lifetimes``). 0 gives the plain maximum-likelihood fit.

    Attributes:
        params_: fitted ``{"r", "alpha", "s", "beta"}``.
        log_likelihood_: total log-likelihood at the fit (unpenalised, unscaled).
        n_customers_: number of customers fitted.
        converged_: optimiser reported success and no parameter is on its search bound
            (a fit ending at a stationary point without that is kept, with a RuntimeWarning).
    """

    name = "pareto_nbd"
    parameter_names = PARAMETER_NAMES

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> ParetoNBDModel:
        """Fit by maximum likelihood; returns self.

        Raises:
            ModelFitError: no customers, no repeat buyers, no observation window, or a failed
                optimisation.
        """
        fitted, self.log_likelihood_, self.n_customers_, self.converged_ = fit_repeat_purchase_model(
            "Pareto/NBD", _ParetoLikelihood, self.penalizer, frequency, recency, T, _start)
        self.params_ = dict(zip(PARAMETER_NAMES, (float(value) for value in fitted), strict=True))
        return self

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> NDArray[np.float64]:
        """P(customer still active at T | frequency, recency, T)."""
        r, alpha, s, beta = self._param_tuple()
        x, t_x, t_cal = check_rfm(frequency, recency, T)
        return _probability_alive(r, alpha, s, beta, x, t_x, t_cal)

    def expected_purchases(
        self, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> NDArray[np.float64]:
        """Expected number of purchases in the next ``t`` time units, given each customer's history.

        ``t`` and the customer arrays broadcast against each other.
        """
        r, alpha, s, beta = self._param_tuple()
        x, t_x, t_cal = check_rfm(frequency, recency, T)
        horizon, x, t_x, t_cal = np.broadcast_arrays(np.asarray(t, dtype=np.float64), x, t_x, t_cal)
        if np.any(horizon < 0):
            raise ValueError("t must be non-negative")
        p_alive = _probability_alive(r, alpha, s, beta, x, t_x, t_cal)
        return p_alive * _purchases_if_alive(r, alpha, s, beta, x, t_cal, horizon)

    def expected_purchases_new_customer(self, t: float | ArrayLike) -> NDArray[np.float64]:
        """Expected number of repeat purchases in ``t`` time units after a customer's first purchase."""
        r, alpha, s, beta = self._param_tuple()
        horizon = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if np.any(horizon < 0):
            raise ValueError("t must be non-negative")
        zeros = np.zeros_like(horizon)
        return _purchases_if_alive(r, alpha, s, beta, zeros, zeros, horizon)

    def _param_tuple(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise RuntimeError("ParetoNBDModel is not fitted; call fit() first")
        return tuple(self.params_[name] for name in PARAMETER_NAMES)  # type: ignore[return-value]


def _purchases_if_alive(r, alpha, s, beta, x, t_cal, horizon) -> NDArray[np.float64]:
    """(r + x)(beta + T) / ((alpha + T)(s - 1)) * (1 - ((beta + T)/(beta + T + t))^(s - 1)).

    Written as (r + x)/(alpha + T) * (beta + T) * L * exprel(-(s - 1) L) with
    L = log(1 + t/(beta + T)), which is finite and exact through s = 1 (where it becomes
    (r + x)(beta + T)/(alpha + T) * L).
    """
    log_growth = np.log1p(horizon / (beta + t_cal))
    return (r + x) / (alpha + t_cal) * (beta + t_cal) * log_growth * exprel(-(s - 1.0) * log_growth)


def _probability_alive(r, alpha, s, beta, x, t_x, t_cal) -> NDArray[np.float64]:
    (pair_x, pair_t), inverse = unique_rows(np.concatenate([x, x]), np.concatenate([t_x, t_cal]))
    log_tail = _log_tail_integral(r + pair_x, s + 1.0, alpha, beta, pair_t)
    alive, dead = _alive_and_dead_terms(r, alpha, s, beta, x, t_cal, log_tail[inverse[: x.size]],
                                        log_tail[inverse[x.size:]])
    return expit(alive - dead)


def _alive_and_dead_terms(r, alpha, s, beta, x, t_cal, log_tail_tx, log_tail_t):
    """Log of the two likelihood branches, without the factor common to both.

    alive: (alpha + T)^-(r + x) (beta + T)^-s, the customer survives the whole window.
    dead: s (I(t_x) - I(T)), death somewhere after the last purchase (-inf when t_x = T).
    """
    alive = -(r + x) * np.log(alpha + t_cal) - s * np.log(beta + t_cal)
    # I(T) <= I(t_x) exactly; the clip absorbs rounding in the hypergeometric function.
    log_ratio = np.minimum(log_tail_t - log_tail_tx, 0.0)
    with np.errstate(divide="ignore"):
        dead = np.log(s) + log_tail_tx + np.log(-np.expm1(log_ratio))
    return alive, dead


def _log_tail_integral(a, b, alpha: float, beta: float, t) -> NDArray[np.float64]:
    """log of integral_t^inf (alpha + tau)^-a (beta + tau)^-b d tau, for a > 0, b > 0, a + b > 1.

    With (big, e_big) the larger scale and its exponent and (small, e_small) the other one,
    the integral is (big + t)^-e_big (small + t)^(1 - e_small) / (a + b - 1)
    * 2F1(1, e_big; a + b; (big - small)/(big + t)).
    """
    a, b, t = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                                  np.asarray(t, dtype=np.float64))
    if alpha >= beta:
        big, small, e_big, e_small = alpha, beta, a, b
    else:
        big, small, e_big, e_small = beta, alpha, b, a
    z = (big - small) / (big + t)
    return (
        -e_big * np.log(big + t)
        - (e_small - 1.0) * np.log(small + t)
        - np.log(a + b - 1.0)
        + _log_hyp2f1_one(e_big, e_small, z)
    )


def _log_hyp2f1_one(a, b, z) -> NDArray[np.float64]:
    """log 2F1(1, a; a + b; z) for a, b > 0, a + b > 1 and 0 <= z < 1 (a positive series >= 1)."""
    with np.errstate(all="ignore"):
        value = np.log(hyp2f1(1.0, a, a + b, z))
    failed = ~np.isfinite(value)
    if np.any(failed):
        value = value.copy()
        value[failed] = _log_hyp2f1_one_by_quadrature(a[failed], b[failed], z[failed])
    return value


def _log_hyp2f1_one_by_quadrature(a, b, z) -> NDArray[np.float64]:
    """The same function from its integral form.

    2F1(1, a; a + b; z) = (1 - z)^-1 integral_0^inf e^-v rho(v)^b dv with
    rho(v) = (1 - z) / (1 - z exp(-v / (a + b - 1))), which lies in (0, 1], so the integrand
    is bounded by e^-v whatever the size of a, b or 1 - z.
    """
    c = a + b - 1.0
    log_one_minus_z = np.log1p(-z)

    def integrand(v: float) -> NDArray[np.float64]:
        denominator = np.exp(log_one_minus_z) - z * np.expm1(-v / c)
        return np.exp(-v + b * (log_one_minus_z - np.log(denominator)))

    integral, _ = quad_vec(integrand, 0.0, np.inf, epsabs=0.0, epsrel=1e-12)
    return np.log(integral) - log_one_minus_z


class _ParetoLikelihood:
    """Total Pareto/NBD log-likelihood and its gradient in (r, alpha, s, beta).

    Tail integrals depend on (x, t) only, so they are evaluated once per distinct pair among
    the (x, t_x) and (x, T) pairs. Their derivatives in alpha and beta are tail integrals
    with the exponent raised by one; those in r and s (which sit inside the hypergeometric
    parameters) are central differences.
    """

    def __init__(
        self, x: NDArray[np.float64], t_x: NDArray[np.float64], t_cal: NDArray[np.float64], weights: NDArray[np.float64]
    ) -> None:
        self.x, self.t_x, self.t_cal, self.weights = x, t_x, t_cal, weights
        self.total_weight = float(weights.sum())
        self.distinct_x, x_index = np.unique(x, return_inverse=True)
        self.distinct_weights = np.bincount(x_index, weights=weights)
        (self.pair_x, self.pair_t), inverse = unique_rows(np.concatenate([x, x]), np.concatenate([t_x, t_cal]))
        self.index_tx, self.index_t = inverse[: x.size], inverse[x.size:]

    def __call__(
        self, params: NDArray[np.float64], with_gradient: bool = True
    ) -> tuple[float, NDArray[np.float64]]:
        r, alpha, s, beta = params
        xs, counts, w, x = self.distinct_x, self.distinct_weights, self.weights, self.x
        exponent_a, exponent_b, pair_t = r + self.pair_x, s + 1.0, self.pair_t
        log_tail = _log_tail_integral(exponent_a, exponent_b, alpha, beta, pair_t)
        alive, dead = _alive_and_dead_terms(r, alpha, s, beta, x, self.t_cal, log_tail[self.index_tx],
                                            log_tail[self.index_t])
        mixture = np.logaddexp(alive, dead)
        log_lik = (
            counts @ gammaln(r + xs)
            + self.total_weight * (r * np.log(alpha) + s * np.log(beta) - gammaln(r))
            + w @ mixture
        )
        if not with_gradient:
            return float(log_lik), np.full(4, np.nan)

        # d log I / d theta per distinct pair.
        step_a = _EXPONENT_STEP * exponent_a
        step_b = _EXPONENT_STEP * exponent_b
        d_log_tail = (
            (_log_tail_integral(exponent_a + step_a, exponent_b, alpha, beta, pair_t)
             - _log_tail_integral(exponent_a - step_a, exponent_b, alpha, beta, pair_t)) / (2.0 * step_a),
            -exponent_a * np.exp(_log_tail_integral(exponent_a + 1.0, exponent_b, alpha, beta, pair_t) - log_tail),
            (_log_tail_integral(exponent_a, exponent_b + step_b, alpha, beta, pair_t)
             - _log_tail_integral(exponent_a, exponent_b - step_b, alpha, beta, pair_t)) / (2.0 * step_b),
            -exponent_b * np.exp(_log_tail_integral(exponent_a, exponent_b + 1.0, alpha, beta, pair_t) - log_tail),
        )
        weight_alive = np.exp(alive - mixture)
        weight_dead = 1.0 - weight_alive
        # The dead branch's derivative is (dI(t_x) - dI(T)) / (I(t_x) - I(T)); multiplying by its
        # posterior weight cancels the difference in the denominator, so no cancellation occurs
        # when t_x is close to T.
        scaled_dead = np.exp(np.log(s) + log_tail[self.index_tx] - mixture)
        ratio = np.exp(np.minimum(log_tail[self.index_t] - log_tail[self.index_tx], 0.0))
        dead_parts = [w @ (scaled_dead * (d[self.index_tx] - ratio * d[self.index_t])) for d in d_log_tail]
        log_alpha_t = np.log(alpha + self.t_cal)
        log_beta_t = np.log(beta + self.t_cal)
        grad_r = (
            counts @ digamma(r + xs)
            + self.total_weight * (np.log(alpha) - digamma(r))
            - w @ (weight_alive * log_alpha_t)
            + dead_parts[0]
        )
        grad_alpha = self.total_weight * r / alpha - w @ (weight_alive * (r + x) / (alpha + self.t_cal)) + dead_parts[1]
        grad_s = (
            self.total_weight * np.log(beta)
            - w @ (weight_alive * log_beta_t)
            + (w @ weight_dead) / s
            + dead_parts[2]
        )
        grad_beta = self.total_weight * s / beta - w @ (weight_alive * s / (beta + self.t_cal)) + dead_parts[3]
        return float(log_lik), np.array([grad_r, grad_alpha, grad_s, grad_beta])
