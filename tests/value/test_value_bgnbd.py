import numpy as np
import polars as pl
import pytest
from scipy.special import hyp2f1

from value.bgnbd import BetaGeoModel
from value.errors import ModelFitError
from value.simulation import simulate_bgnbd

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _arrays(summary: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy()


@pytest.fixture(scope="module")
def cdnow_model(cdnow_summary: pl.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(*_arrays(cdnow_summary))


def test_cdnow_fit_reproduces_published_parameters(cdnow_model: BetaGeoModel) -> None:
    for name, published in PUBLISHED.items():
        assert cdnow_model.params_[name] == pytest.approx(published, rel=0.01), name
    assert cdnow_model.log_likelihood_ == pytest.approx(-9582.4, abs=1.0)
    assert cdnow_model.n_customers_ == 2357
    assert cdnow_model.converged_


def test_cdnow_conditional_expectation_matches_paper(cdnow_model: BetaGeoModel) -> None:
    # Fader, Hardie & Lee (2005): a customer with x = 2, t_x = 30.43, T = 38.86 is expected
    # to make 1.226 purchases in the next 39 weeks.
    expected = cdnow_model.expected_purchases(39.0, [2], [30.43], [38.86])
    assert expected[0] == pytest.approx(1.226, abs=0.001)


def test_transformed_hypergeometric_matches_paper_formula(cdnow_model: BetaGeoModel) -> None:
    r, alpha, a, b = (cdnow_model.params_[name] for name in ("r", "alpha", "a", "b"))
    x = np.array([0.0, 1.0, 2.0, 5.0, 12.0, 30.0])
    t_x = np.array([0.0, 3.0, 30.43, 20.0, 35.0, 38.0])
    T = np.array([10.0, 20.0, 38.86, 38.86, 38.86, 38.86])
    for horizon in (0.5, 39.0, 104.0):
        z = horizon / (alpha + T + horizon)
        paper = (
            (a + b + x - 1) / (a - 1)
            * (1 - ((alpha + T) / (alpha + T + horizon)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
            / (1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
        )
        np.testing.assert_allclose(cdnow_model.expected_purchases(horizon, x, t_x, T), paper, rtol=1e-9)


def test_probability_alive_bounds(cdnow_model: BetaGeoModel, cdnow_summary: pl.DataFrame) -> None:
    frequency, recency, T = _arrays(cdnow_summary)
    p_alive = cdnow_model.probability_alive(frequency, recency, T)
    assert np.all((p_alive >= 0) & (p_alive <= 1))
    assert np.all(p_alive[frequency == 0] == 1.0)
    assert np.all(p_alive[frequency > 0] < 1.0)
    # Longer silence since the last purchase means a lower chance of being alive.
    silence = cdnow_model.probability_alive([5, 5, 5], [30.0, 20.0, 5.0], [38.0, 38.0, 38.0])
    assert silence[0] > silence[1] > silence[2]


def test_expected_purchases_edge_cases(cdnow_model: BetaGeoModel) -> None:
    assert cdnow_model.expected_purchases(0.0, [3], [10.0], [20.0])[0] == 0.0
    # A customer observed for no time after the first purchase is a new customer.
    new = cdnow_model.expected_purchases_new_customer([1.0, 39.0, 520.0])
    np.testing.assert_allclose(cdnow_model.expected_purchases([1.0, 39.0, 520.0], 0, 0.0, 0.0), new, rtol=1e-12)
    assert np.all(np.diff(new) > 0)
    heavy = cdnow_model.expected_purchases(1e4, [200], [38.0], [38.5])
    assert np.isfinite(heavy[0]) and heavy[0] > 0


def test_a_equal_one_is_handled_by_continuity() -> None:
    model = BetaGeoModel()
    args = (52.0, [0, 3, 10], [0.0, 10.0, 30.0], [20.0, 30.0, 38.0])
    values = []
    for a in (1.0 - 1e-3, 1.0, 1.0 + 1e-3):
        model.params_ = {"r": 0.5, "alpha": 5.0, "a": a, "b": 2.0}
        values.append(model.expected_purchases(*args))
    assert np.all(np.isfinite(values[1]))
    np.testing.assert_allclose(values[1], 0.5 * (values[0] + values[2]), rtol=1e-5)


def test_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(2024)
    true = {"r": 0.6, "alpha": 8.0, "a": 0.7, "b": 3.0}
    T = rng.uniform(10.0, 52.0, size=60_000)
    model = BetaGeoModel().fit(*simulate_bgnbd(true, T, rng))
    for name, value in true.items():
        assert model.params_[name] == pytest.approx(value, rel=0.1), name


def test_conditional_expectations_average_to_population_increment() -> None:
    # Law of total expectation: over customers drawn from the model, the mean of
    # E[Y(t) | x, t_x, T] equals E[X(T + t)] - E[X(T)].
    rng = np.random.default_rng(11)
    true = {"r": 0.4, "alpha": 5.0, "a": 0.9, "b": 2.5}
    model = BetaGeoModel()
    model.params_ = dict(true)
    T = np.full(200_000, 30.0)
    frequency, recency, T = simulate_bgnbd(true, T, rng)
    new = model.expected_purchases_new_customer([30.0, 56.0])
    assert np.mean(frequency) == pytest.approx(new[0], rel=0.02)
    conditional = model.expected_purchases(26.0, frequency, recency, T)
    assert np.mean(conditional) == pytest.approx(new[1] - new[0], rel=0.02)


def test_grouping_is_exact_for_duplicated_customers(cdnow_summary: pl.DataFrame, cdnow_model: BetaGeoModel) -> None:
    frequency, recency, T = _arrays(cdnow_summary)
    doubled = BetaGeoModel().fit(np.tile(frequency, 2), np.tile(recency, 2), np.tile(T, 2))
    for name in PUBLISHED:
        assert doubled.params_[name] == pytest.approx(cdnow_model.params_[name], rel=1e-5)
    assert doubled.log_likelihood_ == pytest.approx(2 * cdnow_model.log_likelihood_, rel=1e-7)
    assert doubled.n_customers_ == 2 * cdnow_model.n_customers_


def test_penalizer_shrinks_parameters(cdnow_summary: pl.DataFrame, cdnow_model: BetaGeoModel) -> None:
    penalized = BetaGeoModel(penalizer=0.1).fit(*_arrays(cdnow_summary))
    assert sum(v**2 for v in penalized.params_.values()) < sum(v**2 for v in cdnow_model.params_.values())
    assert penalized.log_likelihood_ < cdnow_model.log_likelihood_


def test_no_repeat_buyers_raises_model_fit_error() -> None:
    with pytest.raises(ModelFitError, match="no repeat buyers"):
        BetaGeoModel().fit(np.zeros(100), np.zeros(100), np.linspace(1, 30, 100))


def test_invalid_inputs_raise() -> None:
    with pytest.raises(ModelFitError, match="no customers"):
        BetaGeoModel().fit([], [], [])
    with pytest.raises(ValueError, match="recency must not exceed T"):
        BetaGeoModel().fit([1, 2], [5.0, 50.0], [10.0, 20.0])
    with pytest.raises(ValueError, match="NaN"):
        BetaGeoModel().fit([1, 2], [5.0, np.nan], [10.0, 20.0])
    with pytest.raises(RuntimeError, match="not fitted"):
        BetaGeoModel().probability_alive([1], [1.0], [2.0])


def test_analytic_gradient_matches_finite_differences(cdnow_summary: pl.DataFrame) -> None:
    from scipy.optimize import check_grad

    from value._arrays import group_identical_rows
    from value.bgnbd import _CountLikelihood

    columns, weights = group_identical_rows(*_arrays(cdnow_summary))
    likelihood = _CountLikelihood(*columns, weights)
    for point in ([0.3, 5.0, 0.8, 2.0], [2.0, 1.0, 3.0, 0.5]):
        params = np.array(point)
        error = check_grad(lambda p: likelihood(p)[0], lambda p: likelihood(p)[1], params, epsilon=1e-6)
        assert error < 1e-3 * np.linalg.norm(likelihood(params)[1]) + 1e-2


def test_homogeneous_data_warns_and_reports_not_converged() -> None:
    # Everybody buys at the same rate and nobody drops out: the optimum is on the boundary.
    rng = np.random.default_rng(8)
    T = np.full(5_000, 40.0)
    frequency = rng.poisson(0.5 * T).astype(float)
    recency = T * rng.beta(np.maximum(frequency, 1), 1.0)
    recency[frequency == 0] = 0.0
    with pytest.warns(RuntimeWarning, match="did not fully converge"):
        model = BetaGeoModel().fit(frequency, recency, T)
    assert not model.converged_
    # Predictions stay sensible: about 0.5 purchases per week for everybody.
    assert np.mean(model.expected_purchases(10.0, frequency, recency, T)) == pytest.approx(5.0, rel=0.05)


def test_quadrature_fallback_agrees_with_closed_form(cdnow_model: BetaGeoModel) -> None:
    from value.bgnbd import _purchases_if_alive_by_quadrature, _purchases_if_alive_regular

    r, alpha, a, b = (cdnow_model.params_[name] for name in ("r", "alpha", "a", "b"))
    x = np.array([0.0, 2.0, 26.0, 200.0])
    T = np.array([0.0, 38.86, 31.0, 38.5])
    horizon = np.array([39.0, 39.0, 52.0, 1000.0])
    closed = _purchases_if_alive_regular(r, alpha, a, b, x, T, horizon)
    numeric = _purchases_if_alive_by_quadrature(r, alpha, a, b, x, T, horizon)
    np.testing.assert_allclose(numeric, closed, rtol=1e-6)


def test_a_drop_out_probability_the_same_for_everybody_still_gives_purchases():
    # Fitted on a short history with almost no drop-out yet, a and b run off to huge values with a fixed ratio:
    # the Beta is a point mass at p = a / (a + b). The closed form loses every digit there (it returned 0);
    # the expectation must be the fixed-p limit (1 - (alpha / (alpha + p t))^r) / p.
    from value.mbg_nbd import ModifiedBetaGeoModel

    r, alpha, a, b = 3.0, 3.1, 157_104.4, 2_248_095.1
    t = np.array([1.0, 5.0, 13.0])
    p = a / (a + b)
    limit = (1 - (alpha / (alpha + p * t)) ** r) / p
    bg = BetaGeoModel()
    bg.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    assert bg.expected_purchases_new_customer(t) == pytest.approx(limit, rel=1e-5)
    mbg = ModifiedBetaGeoModel()
    mbg.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    # MBG/NBD: the customer may drop out right after the first purchase (chance a / (a + b)).
    assert mbg.expected_purchases_new_customer(t) == pytest.approx((1 - p) * limit, rel=1e-4)
    assert (bg.expected_purchases(t, np.full(3, 3.0), np.full(3, 5.0), np.full(3, 8.0)) > 0).all()
