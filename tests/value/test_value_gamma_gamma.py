import numpy as np
import polars as pl
import pytest

from value.errors import ModelFitError
from value.gamma_gamma import GammaGammaModel
from value.simulation import simulate_gamma_gamma

PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow_spend_model(cdnow_summary: pl.DataFrame) -> GammaGammaModel:
    return GammaGammaModel().fit(cdnow_summary["frequency"].to_numpy(), cdnow_summary["monetary_value"].to_numpy())


def test_cdnow_fit_reproduces_published_parameters(cdnow_spend_model: GammaGammaModel) -> None:
    for name, published in PUBLISHED.items():
        assert cdnow_spend_model.params_[name] == pytest.approx(published, rel=0.01), name
    assert cdnow_spend_model.log_likelihood_ == pytest.approx(-4055.9, abs=0.5)
    assert cdnow_spend_model.n_customers_ == 946
    assert cdnow_spend_model.converged_


def _fit_on(summary: pl.DataFrame, monetary: pl.Series) -> GammaGammaModel:
    return GammaGammaModel().fit(summary["frequency"].to_numpy(), monetary.to_numpy())


def test_other_monetary_definitions_do_not_reproduce_the_paper(
    cdnow_summary: pl.DataFrame, cdnow_calibration: pl.DataFrame
) -> None:
    # "Average repeat-transaction value" means the mean over repeat purchase *days* (same-day
    # lines merged, first day excluded). Two plausible readings of "from the raw file" miss.
    per_line = (
        cdnow_calibration.sort("user_id", "txn_date")
        .group_by("user_id", maintain_order=True)
        .agg(
            pl.col("amount").slice(1).mean().fill_null(0.0).alias("repeat_lines_mean"),
            pl.col("amount").mean().alias("all_lines_mean"),
        )
    )
    joined = cdnow_summary.join(per_line, on="user_id")
    for column in ("repeat_lines_mean", "all_lines_mean"):
        model = _fit_on(joined, joined[column])
        worst = max(abs(model.params_[k] / v - 1) for k, v in PUBLISHED.items())
        assert worst > 0.01, column
        assert abs(model.log_likelihood_ + 4055.9) > 1.0, column


def test_expected_average_value(cdnow_spend_model: GammaGammaModel) -> None:
    p, q, v = (cdnow_spend_model.params_[k] for k in ("p", "q", "v"))
    population_mean = p * v / (q - 1)
    values = cdnow_spend_model.expected_average_value([0, 1, 10, 1000], [0.0, 50.0, 50.0, 50.0])
    assert values[0] == pytest.approx(population_mean)
    # Shrinks the customer's own mean towards the population mean, less so with more purchases.
    assert population_mean < values[1] < values[2] < values[3] < 50.0
    assert values[3] == pytest.approx(50.0, rel=0.01)
    weight = p / (p + (q - 1))
    assert values[1] == pytest.approx(weight * 50.0 + (1 - weight) * population_mean)


def test_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(5)
    true = {"p": 4.0, "q": 5.0, "v": 30.0}
    frequency = rng.integers(0, 8, size=40_000)
    monetary = simulate_gamma_gamma(true, frequency, rng)
    model = GammaGammaModel().fit(frequency, monetary)
    for name, value in true.items():
        assert model.params_[name] == pytest.approx(value, rel=0.1), name
    assert model.n_customers_ == int(np.sum(frequency > 0))


def test_heavy_tailed_spend_raises_model_fit_error() -> None:
    rng = np.random.default_rng(3)
    frequency = rng.integers(1, 6, size=20_000)
    monetary = simulate_gamma_gamma({"p": 2.0, "q": 0.6, "v": 10.0}, frequency, rng)
    with pytest.raises(ModelFitError, match="q = .* <= 1"):
        GammaGammaModel().fit(frequency, monetary)


def test_degenerate_inputs_raise_model_fit_error() -> None:
    with pytest.raises(ModelFitError, match="at least 2 repeat buyers"):
        GammaGammaModel().fit([0, 0, 3], [0.0, 0.0, 10.0])
    with pytest.raises(ModelFitError, match="monetary_value <= 0"):
        GammaGammaModel().fit([1, 2, 3], [5.0, 0.0, 10.0])
    with pytest.raises(ModelFitError, match="identical spend"):
        GammaGammaModel().fit([2, 2, 2], [10.0, 10.0, 10.0])


def test_analytic_gradient_matches_finite_differences(cdnow_summary: pl.DataFrame) -> None:
    from scipy.optimize import check_grad

    from value._arrays import group_identical_rows
    from value.gamma_gamma import _SpendLikelihood

    repeat = cdnow_summary.filter(pl.col("frequency") > 0)
    columns, weights = group_identical_rows(
        repeat["frequency"].to_numpy().astype(float), repeat["monetary_value"].to_numpy()
    )
    likelihood = _SpendLikelihood(*columns, weights)
    for point in ([6.0, 3.5, 15.0], [1.0, 8.0, 200.0]):
        params = np.array(point)
        error = check_grad(lambda p: likelihood(p)[0], lambda p: likelihood(p)[1], params, epsilon=1e-6)
        assert error < 1e-3 * np.linalg.norm(likelihood(params)[1]) + 1e-2
