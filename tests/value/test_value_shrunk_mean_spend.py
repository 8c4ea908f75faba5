"""The fallback spend model: credibility-weighted means, population mean for one-time buyers."""

import numpy as np
import pytest

from value import ModelFitError, ShrunkMeanSpendModel, model_parameters_frame
from value.bgnbd import BetaGeoModel


def test_expected_value_pulls_own_mean_towards_population_mean():
    model = ShrunkMeanSpendModel(prior_transactions=2).fit([1, 3, 0], [10.0, 30.0, 0.0])
    population = (1 * 10 + 3 * 30) / 4
    assert model.params_["population_mean"] == pytest.approx(population)
    expected = model.expected_average_value([1, 3, 0], [10.0, 30.0, 0.0])
    assert expected[0] == pytest.approx((10 + 2 * population) / 3)
    assert expected[1] == pytest.approx((90 + 2 * population) / 5)
    assert expected[2] == pytest.approx(population)
    assert model.n_customers_ == 2 and model.converged_


def test_without_prior_weight_the_own_mean_is_used():
    model = ShrunkMeanSpendModel(prior_transactions=0).fit([2, 1], [5.0, 50.0])
    np.testing.assert_allclose(model.expected_average_value([2, 1, 0], [5.0, 50.0, 0.0]), [5.0, 50.0, 20.0])


def test_no_repeat_buyers_is_a_fit_error():
    with pytest.raises(ModelFitError, match="no repeat buyers"):
        ShrunkMeanSpendModel().fit([0, 0], [0.0, 0.0])


@pytest.mark.filterwarnings("ignore:BG/NBD:RuntimeWarning")
def test_parameters_frame_names_the_fallback():
    bgnbd = BetaGeoModel().fit([0, 1, 2, 0, 3, 1], [0, 5, 8, 0, 9, 2], [10, 10, 10, 10, 10, 10])
    spend = ShrunkMeanSpendModel().fit([1, 2, 3, 1], [10.0, 20.0, 30.0, 40.0])
    frame = model_parameters_frame(bgnbd, spend)
    assert set(frame["model"]) == {"bg_nbd", "shrunk_mean_spend"}
    assert frame.filter(frame["model"] == "shrunk_mean_spend")["parameter"].to_list() == [
        "population_mean", "prior_transactions"]
