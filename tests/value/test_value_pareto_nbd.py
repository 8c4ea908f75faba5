import numpy as np
import polars as pl
import pytest
from scipy.integrate import quad
from scipy.special import gammaln, hyp2f1

from value._arrays import group_identical_rows, unique_rows
from value.errors import ModelFitError
from value.pareto_nbd import (
    ParetoNBDModel,
    _log_hyp2f1_one,
    _log_hyp2f1_one_by_quadrature,
    _log_tail_integral,
    _ParetoLikelihood,
)
from value.simulation import simulate_pareto_nbd

# Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions".
PUBLISHED = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
PUBLISHED_LOG_LIKELIHOOD = -9595.0


def _arrays(summary: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy()


def _daily_grid(frequency, recency, T):
    # Summaries built from calendar dates carry whole days; rounding keeps distinct rows few.
    return frequency, np.minimum(np.floor(recency * 7.0) / 7.0, T), T


@pytest.fixture(scope="module")
def cdnow_model(cdnow_summary: pl.DataFrame) -> ParetoNBDModel:
    return ParetoNBDModel().fit(*_arrays(cdnow_summary))


def _direct_log_likelihood(params: dict[str, float], x, t_x, T) -> np.ndarray:
    """The note's likelihood with the drop-out term integrated numerically, one customer at a time."""
    r, alpha, s, beta = (params[name] for name in ("r", "alpha", "s", "beta"))
    values = []
    for xi, txi, Ti in zip(x, t_x, T, strict=True):
        alive = (alpha + Ti) ** -(r + xi) * (beta + Ti) ** -s
        dead, _ = quad(lambda tau: (alpha + tau) ** -(r + xi) * s * (beta + tau) ** -(s + 1), txi, Ti,
                       epsabs=0, epsrel=1e-12)
        values.append(gammaln(r + xi) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.log(alive + dead))
    return np.array(values)


def test_cdnow_fit_reproduces_published_parameters(cdnow_model: ParetoNBDModel) -> None:
    for name, published in PUBLISHED.items():
        assert cdnow_model.params_[name] == pytest.approx(published, rel=0.01), name
    assert cdnow_model.log_likelihood_ == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.5)
    assert cdnow_model.n_customers_ == 2357
    assert cdnow_model.converged_
    assert ParetoNBDModel.name == "pareto_nbd"


def test_likelihood_matches_numerical_integration(cdnow_summary: pl.DataFrame, cdnow_model: ParetoNBDModel) -> None:
    x, t_x, T = (array[:40] for array in _arrays(cdnow_summary))
    x = x.astype(float)
    direct = _direct_log_likelihood(cdnow_model.params_, x, t_x, T)
    likelihood = _ParetoLikelihood(x, t_x, T, np.ones_like(x))
    params = np.array([cdnow_model.params_[name] for name in ("r", "alpha", "s", "beta")])
    assert likelihood(params, with_gradient=False)[0] == pytest.approx(direct.sum(), rel=1e-10)
    # alpha > beta takes the other branch of the hypergeometric.
    swapped = {"r": 0.8, "alpha": 30.0, "s": 1.7, "beta": 2.0}
    direct = _direct_log_likelihood(swapped, x, t_x, T)
    assert likelihood(np.array(list(swapped.values())), with_gradient=False)[0] == pytest.approx(direct.sum(), rel=1e-10)


@pytest.mark.parametrize(
    ("a", "b", "alpha", "beta", "t"),
    [
        (0.55, 1.61, 10.58, 11.67, 0.0),
        (3.55, 1.61, 10.58, 11.67, 30.0),
        (0.3, 1.2, 0.01, 500.0, 0.0),
        (2.0, 3.0, 500.0, 0.01, 5.0),
        (40.0, 1.0 + 1e-9, 50.0, 1.0, 12.0),
        # scipy's hyp2f1 returns NaN here (heavy buyer, alpha >> beta): the quadrature path.
        (253.45, 1.163, 98.57, 0.1353, 0.0),
        (1340.0, 1.39, 400.0, 0.05, 0.0),
    ],
)
def test_tail_integral_matches_quadrature(a, b, alpha, beta, t) -> None:
    log_scale = -a * np.log(alpha + t) - b * np.log(beta + t)
    integral, _ = quad(
        lambda tau: np.exp(-a * np.log(alpha + tau) - b * np.log(beta + tau) - log_scale),
        t, np.inf, epsabs=0, epsrel=1e-12, limit=500,
    )
    computed = _log_tail_integral(np.array([a]), np.array([b]), alpha, beta, np.array([t]))[0]
    assert computed == pytest.approx(np.log(integral) + log_scale, abs=1e-8)


def test_quadrature_fallback_agrees_with_hyp2f1_where_both_work() -> None:
    a = np.array([0.5, 3.0, 20.0, 80.0, 1.5])
    b = np.array([1.6, 1.1, 2.5, 0.4, 0.7])
    z = np.array([0.1, 0.9, 0.5, 0.95, 0.999])
    np.testing.assert_allclose(_log_hyp2f1_one_by_quadrature(a, b, z), np.log(hyp2f1(1.0, a, a + b, z)), rtol=1e-9)
    np.testing.assert_allclose(_log_hyp2f1_one(a, b, z), np.log(hyp2f1(1.0, a, a + b, z)), rtol=1e-12)
    heavy = _log_hyp2f1_one(np.array([700.0]), np.array([1.2]), np.array([1 - 4e-4]))
    assert np.isfinite(heavy[0]) and heavy[0] > 0


def test_analytic_gradient_matches_finite_differences(cdnow_summary: pl.DataFrame) -> None:
    from scipy.optimize import approx_fprime

    columns, weights = group_identical_rows(*(column.astype(float) for column in _arrays(cdnow_summary)))
    likelihood = _ParetoLikelihood(*columns, weights)
    for point in ([0.55, 10.58, 0.61, 11.67], [1.0, 3.0, 2.0, 0.5], [0.3, 20.0, 0.2, 2.0]):
        params = np.array(point)
        numeric = approx_fprime(params, lambda p: likelihood(p, with_gradient=False)[0], 1e-7)
        np.testing.assert_allclose(likelihood(params)[1], numeric, rtol=1e-4, atol=1e-3)


def test_probability_alive(cdnow_model: ParetoNBDModel, cdnow_summary: pl.DataFrame) -> None:
    p_alive = cdnow_model.probability_alive(*_arrays(cdnow_summary))
    assert np.all((p_alive > 0) & (p_alive <= 1))
    # Unlike BG/NBD, a customer without repeat purchases can already be gone.
    no_repeat = cdnow_model.probability_alive([0, 0, 0], [0.0, 0.0, 0.0], [0.0, 10.0, 38.0])
    assert no_repeat[0] == pytest.approx(1.0)
    assert 1.0 > no_repeat[1] > no_repeat[2]
    silence = cdnow_model.probability_alive([5, 5, 5], [30.0, 20.0, 5.0], [38.0, 38.0, 38.0])
    assert silence[0] > silence[1] > silence[2]
    assert cdnow_model.probability_alive([4], [38.0], [38.0])[0] == pytest.approx(1.0)


def test_expected_purchases_matches_closed_form(cdnow_model: ParetoNBDModel) -> None:
    r, alpha, s, beta = (cdnow_model.params_[name] for name in ("r", "alpha", "s", "beta"))
    x = np.array([0.0, 1.0, 2.0, 7.0])
    t_x = np.array([0.0, 3.0, 30.43, 37.0])
    T = np.array([20.0, 20.0, 38.86, 38.86])
    p_alive = cdnow_model.probability_alive(x, t_x, T)
    for horizon in (1.0, 39.0, 520.0):
        closed = (r + x) * (beta + T) / ((alpha + T) * (s - 1)) * (1 - ((beta + T) / (beta + T + horizon)) ** (s - 1))
        np.testing.assert_allclose(cdnow_model.expected_purchases(horizon, x, t_x, T), closed * p_alive, rtol=1e-12)
    new = cdnow_model.expected_purchases_new_customer([1.0, 39.0, 78.0])
    np.testing.assert_allclose(new, r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + np.array([1.0, 39.0, 78.0])))
                                                                     ** (s - 1)), rtol=1e-12)
    assert cdnow_model.expected_purchases(0.0, [3], [10.0], [20.0])[0] == 0.0


def test_expected_purchases_is_continuous_at_s_equal_one() -> None:
    model = ParetoNBDModel()
    values = []
    for s in (1.0 - 1e-6, 1.0, 1.0 + 1e-6):
        model.params_ = {"r": 0.5, "alpha": 5.0, "s": s, "beta": 8.0}
        values.append(model.expected_purchases(52.0, [0, 3, 10], [0.0, 10.0, 30.0], [20.0, 30.0, 38.0]))
    assert np.all(np.isfinite(values[1]))
    np.testing.assert_allclose(values[1], 0.5 * (values[0] + values[2]), rtol=1e-6)


def test_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(7)
    true = {"r": 0.7, "alpha": 6.0, "s": 0.9, "beta": 15.0}
    T = rng.integers(70, 365, size=40_000) / 7.0
    model = ParetoNBDModel().fit(*_daily_grid(*simulate_pareto_nbd(true, T, rng)))
    assert model.converged_
    for name, value in true.items():
        assert model.params_[name] == pytest.approx(value, rel=0.15), name


def test_conditional_expectations_average_to_population_increment() -> None:
    rng = np.random.default_rng(12)
    true = {"r": 0.5, "alpha": 5.0, "s": 0.8, "beta": 10.0}
    model = ParetoNBDModel()
    model.params_ = dict(true)
    frequency, recency, T = simulate_pareto_nbd(true, np.full(200_000, 30.0), rng)
    new = model.expected_purchases_new_customer([30.0, 56.0])
    assert np.mean(frequency) == pytest.approx(new[0], rel=0.02)
    conditional = model.expected_purchases(26.0, *_daily_grid(frequency, recency, T))
    assert np.mean(conditional) == pytest.approx(new[1] - new[0], rel=0.02)


def test_grouping_is_exact_for_duplicated_customers(cdnow_summary: pl.DataFrame, cdnow_model: ParetoNBDModel) -> None:
    frequency, recency, T = _arrays(cdnow_summary)
    doubled = ParetoNBDModel().fit(np.tile(frequency, 2), np.tile(recency, 2), np.tile(T, 2))
    for name in PUBLISHED:
        assert doubled.params_[name] == pytest.approx(cdnow_model.params_[name], rel=1e-5)
    assert doubled.log_likelihood_ == pytest.approx(2 * cdnow_model.log_likelihood_, rel=1e-7)


def test_unique_rows_inverse_reconstructs_input() -> None:
    x = np.array([2.0, 0.0, 2.0, 1.0, 0.0, 2.0])
    t = np.array([5.0, 0.0, 5.0, 3.0, 0.0, 4.0])
    (ux, ut), inverse = unique_rows(x, t)
    assert list(zip(ux, ut, strict=True)) == [(0.0, 0.0), (1.0, 3.0), (2.0, 4.0), (2.0, 5.0)]
    np.testing.assert_array_equal(ux[inverse], x)
    np.testing.assert_array_equal(ut[inverse], t)


def test_penalizer_shrinks_parameters(cdnow_summary: pl.DataFrame, cdnow_model: ParetoNBDModel) -> None:
    penalized = ParetoNBDModel(penalizer=0.01).fit(*_arrays(cdnow_summary))
    assert sum(v**2 for v in penalized.params_.values()) < sum(v**2 for v in cdnow_model.params_.values())
    assert penalized.log_likelihood_ < cdnow_model.log_likelihood_


def test_invalid_inputs_raise() -> None:
    with pytest.raises(ModelFitError, match="no repeat buyers"):
        ParetoNBDModel().fit(np.zeros(10), np.zeros(10), np.linspace(1, 30, 10))
    with pytest.raises(ModelFitError, match="no customers"):
        ParetoNBDModel().fit([], [], [])
    with pytest.raises(ValueError, match="recency must not exceed T"):
        ParetoNBDModel().fit([1, 2], [5.0, 50.0], [10.0, 20.0])
    with pytest.raises(RuntimeError, match="not fitted"):
        ParetoNBDModel().expected_purchases(1.0, [1], [1.0], [2.0])
    with pytest.raises(ValueError, match="non-negative"):
        ParetoNBDModel(penalizer=-1.0).fit([1], [1.0], [2.0])
