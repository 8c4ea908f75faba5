"""Maximum-likelihood search over log-parameters shared by the value models."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from value.errors import ModelFitError

# exp(+-15) spans 3e-7 .. 3e6: wide enough for any realistic parameter in weeks or days,
# narrow enough to keep the gamma functions away from overflow.
LOG_PARAM_BOUND = 15.0
# Largest projected gradient (of the mean negative log-likelihood) accepted from a run
# that the optimiser flagged as unsuccessful, e.g. after a line-search stall at the optimum.
_GRADIENT_TOLERANCE = 1e-4

ObjectiveWithGradient = Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]]


def maximise_likelihood(
    objective: ObjectiveWithGradient, start_params: NDArray[np.float64], model_name: str
) -> tuple[NDArray[np.float64], bool]:
    """Minimise ``objective`` over log-parameters with L-BFGS-B.

    Args:
        objective: maps log-parameters to (mean negative log-likelihood + penalty, gradient).
        start_params: starting parameters on the natural (positive) scale.
        model_name: used in error messages.

    Returns:
        The fitted parameters on the natural scale, and whether the fit converged: the
        optimiser reported success and no parameter sits on its search bound. A fit that did
        not converge but ended at a (projected) stationary point is returned with a warning.

    Raises:
        ModelFitError: when the objective is not finite at the start or at the end, or the
            optimiser stopped away from a stationary point.
    """
    start = np.log(np.asarray(start_params, dtype=np.float64))
    start_value, _ = objective(start)
    if not np.isfinite(start_value):
        raise ModelFitError(f"{model_name}: log-likelihood is not finite at the starting point")
    bounds = [(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * start.size
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
    )
    value, gradient = objective(result.x)
    if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
        raise ModelFitError(f"{model_name}: optimiser ended at a non-finite log-likelihood ({result.message})")
    at_lower = result.x <= -LOG_PARAM_BOUND + 1e-8
    at_upper = result.x >= LOG_PARAM_BOUND - 1e-8
    # On an active bound only the gradient pointing back inside the box must vanish.
    projected = np.where((at_lower & (gradient > 0)) | (at_upper & (gradient < 0)), 0.0, gradient)
    if not result.success and np.max(np.abs(projected)) > _GRADIENT_TOLERANCE:
        raise ModelFitError(f"{model_name}: optimiser did not converge ({result.message})")
    converged = bool(result.success) and not np.any(at_lower | at_upper)
    if not converged:
        # Typical cause: the data carry no heterogeneity (or no drop-out), so the optimum lies
        # at the edge of the parameter space; predictions remain usable, parameters less so.
        warnings.warn(
            f"{model_name}: fit did not fully converge ({result.message}); "
            f"log-parameters {np.round(result.x, 3).tolist()}",
            RuntimeWarning,
            stacklevel=3,
        )
    return np.exp(result.x), converged


def fit_repeat_purchase_model(
    model_name: str,
    make_likelihood: Callable,
    penalizer: float,
    frequency,
    recency,
    T,
    start: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]],
) -> tuple[NDArray[np.float64], float, int, bool]:
    """The fitting steps BG/NBD, MBG/NBD and Pareto/NBD share.

    Checks the inputs, groups identical (frequency, recency, T) rows, and maximises the likelihood
    built by ``make_likelihood(x, t_x, T, weights)`` (called with the parameters, it returns
    (log-likelihood, gradient); it has a ``total_weight``) with an L2 ``penalizer``.

    Returns:
        (fitted parameters, total log-likelihood at the fit, customers fitted, converged).
    """
    from value._arrays import check_rfm, group_identical_rows

    if penalizer < 0:
        raise ValueError("penalizer must be non-negative")
    x, t_x, t_cal = check_rfm(frequency, recency, T)
    if x.size == 0:
        raise ModelFitError(f"{model_name}: no customers to fit")
    if not np.any(x > 0):
        raise ModelFitError(
            f"{model_name}: no repeat buyers (frequency is 0 for every customer); "
            "purchase rate and drop-out cannot be identified"
        )
    if not np.any(t_cal > 0):
        raise ModelFitError(f"{model_name}: every customer has T = 0; there is no observation window")
    (x_u, t_x_u, t_u), weights = group_identical_rows(x, t_x, t_cal)
    likelihood = make_likelihood(x_u, t_x_u, t_u, weights)

    def objective(log_params: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        params = np.exp(log_params)
        log_lik, gradient = likelihood(params)
        value = -log_lik / likelihood.total_weight + penalizer * np.sum(params**2)
        grad = -gradient / likelihood.total_weight + 2.0 * penalizer * params
        return float(value), grad * params

    fitted, converged = maximise_likelihood(objective, start(x, t_cal), model_name)
    return fitted, float(likelihood(fitted)[0]), int(x.size), converged


def rate_start(x: NDArray[np.float64], t_cal: NDArray[np.float64]) -> tuple[float, float]:
    """Mean window length and mean purchase rate, the usual scale for starting points."""
    mean_t = float(np.mean(t_cal))
    return mean_t, max(float(np.mean(x)) / max(mean_t, 1e-12), 1e-6)
