import numpy as np
import polars as pl
import pytest

from value.bgnbd import BetaGeoModel
from value.errors import ModelFitError
from value.mbg_nbd import ModifiedBetaGeoModel
from value.model_selection import select_transaction_model
from value.pareto_nbd import ParetoNBDModel


class _AlwaysFails:
    name = "always_fails"
    parameter_names = ("k",)

    def fit(self, frequency, recency, T):
        raise ModelFitError("always_fails: refuses to fit")


class _ThreeParameterBG(BetaGeoModel):
    """BG/NBD under another name, claiming fewer parameters, to exercise the tie-break."""

    name = "bg_nbd_three"
    parameter_names = ("r", "alpha", "a")


class _RenamedBG(BetaGeoModel):
    name = "bg_nbd_again"


@pytest.fixture(scope="module")
def cdnow_selection(cdnow_summary: pl.DataFrame):
    return select_transaction_model(cdnow_summary)


def test_cdnow_selection_frame(cdnow_selection, cdnow_summary: pl.DataFrame) -> None:
    model, frame, fitted = cdnow_selection
    assert list(fitted) == ["bg_nbd", "pareto_nbd", "mbg_nbd"] and fitted[model.name] is model
    assert frame.schema == pl.Schema(
        {"model": pl.String, "log_likelihood": pl.Float64, "n_params": pl.Int64, "aic": pl.Float64,
         "converged": pl.Boolean, "chosen": pl.Boolean, "error": pl.String}
    )
    assert frame["model"].to_list() == ["bg_nbd", "pareto_nbd", "mbg_nbd"]
    assert frame["n_params"].to_list() == [4, 4, 4]
    assert frame["error"].null_count() == 3
    np.testing.assert_allclose(frame["aic"].to_numpy(), 8.0 - 2.0 * frame["log_likelihood"].to_numpy())
    log_lik = dict(zip(frame["model"], frame["log_likelihood"], strict=True))
    assert log_lik["bg_nbd"] == pytest.approx(-9582.4, abs=0.1)
    assert log_lik["pareto_nbd"] == pytest.approx(-9595.0, abs=0.1)
    # MBG/NBD edges out BG/NBD on CDNOW (-9582.14 vs -9582.43).
    assert frame.filter(pl.col("chosen"))["model"].to_list() == ["mbg_nbd"]
    assert isinstance(model, ModifiedBetaGeoModel)
    assert model.log_likelihood_ == max(log_lik.values())
    assert model.n_customers_ == cdnow_summary.height


def test_failed_candidate_is_recorded_and_skipped(cdnow_summary: pl.DataFrame) -> None:
    pareto = ParetoNBDModel()
    model, frame, _ = select_transaction_model(cdnow_summary, candidates=[_AlwaysFails(), pareto])
    assert model.name == "pareto_nbd"
    assert not hasattr(pareto, "params_"), "candidates passed in must stay unfitted"
    failed = frame.row(0, named=True)
    assert failed["model"] == "always_fails" and failed["error"] == "always_fails: refuses to fit"
    assert failed["log_likelihood"] is None and failed["aic"] is None and failed["chosen"] is False
    assert failed["n_params"] == 1


def test_ties_go_to_fewer_parameters_then_to_the_first_listed(cdnow_summary: pl.DataFrame) -> None:
    model, frame, _ = select_transaction_model(cdnow_summary, candidates=[BetaGeoModel(), _ThreeParameterBG()])
    assert model.name == "bg_nbd_three"
    assert frame["chosen"].to_list() == [False, True]
    model, frame, _ = select_transaction_model(cdnow_summary, candidates=[_RenamedBG(), BetaGeoModel()])
    assert model.name == "bg_nbd_again"
    assert frame["chosen"].to_list() == [True, False]


def test_all_candidates_failing_raises() -> None:
    summary = pl.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0.0, 0.0], "T": [5.0, 6.0, 7.0]})
    with pytest.raises(ModelFitError, match="no transaction model could be fitted.*bg_nbd.*no repeat buyers"):
        select_transaction_model(summary)


def test_invalid_arguments() -> None:
    summary = pl.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0]})
    with pytest.raises(ValueError, match="no candidate"):
        select_transaction_model(summary, candidates=[])
    with pytest.raises(ValueError, match="distinct"):
        select_transaction_model(summary, candidates=[BetaGeoModel(), BetaGeoModel()])
    with pytest.raises(ValueError, match="lacks column"):
        select_transaction_model(summary.drop("T"))
