import numpy as np
import polars as pl
import pytest

from value.bgnbd import BetaGeoModel
from value.clv import customer_lifetime_value, model_parameters_frame
from value.gamma_gamma import GammaGammaModel


@pytest.fixture(scope="module")
def models(cdnow_summary: pl.DataFrame) -> tuple[BetaGeoModel, GammaGammaModel]:
    frequency = cdnow_summary["frequency"].to_numpy()
    bgnbd = BetaGeoModel().fit(frequency, cdnow_summary["recency"].to_numpy(), cdnow_summary["T"].to_numpy())
    spend = GammaGammaModel().fit(frequency, cdnow_summary["monetary_value"].to_numpy())
    return bgnbd, spend


def test_undiscounted_clv_is_txns_times_value(models, cdnow_summary: pl.DataFrame) -> None:
    bgnbd, spend = models
    clv = customer_lifetime_value(bgnbd, spend, cdnow_summary, horizon_units=52.0)
    assert clv.schema == pl.Schema(
        {"user_id": pl.Int64, "p_alive": pl.Float64, "expected_txns": pl.Float64,
         "expected_value": pl.Float64, "clv": pl.Float64}
    )
    assert clv["user_id"].to_list() == cdnow_summary["user_id"].to_list()
    np.testing.assert_allclose(clv["clv"].to_numpy(), (clv["expected_txns"] * clv["expected_value"]).to_numpy())
    frequency = cdnow_summary["frequency"].to_numpy()
    recency, T = cdnow_summary["recency"].to_numpy(), cdnow_summary["T"].to_numpy()
    np.testing.assert_allclose(clv["p_alive"].to_numpy(), bgnbd.probability_alive(frequency, recency, T))
    np.testing.assert_allclose(clv["expected_txns"].to_numpy(), bgnbd.expected_purchases(52.0, frequency, recency, T))
    first = clv.row(0, named=True)  # CDNOW customer 1: x = 2, monetary 22.35
    assert first["expected_value"] == pytest.approx(
        spend.expected_average_value([2], [22.345])[0]
    )
    assert (clv["clv"] >= 0).all()


def test_discounting(models, cdnow_summary: pl.DataFrame) -> None:
    bgnbd, spend = models
    plain = customer_lifetime_value(bgnbd, spend, cdnow_summary, horizon_units=52.0)
    single_step = customer_lifetime_value(
        bgnbd, spend, cdnow_summary, horizon_units=52.0, discount_rate_per_unit=0.01, discount_step_units=52.0
    )
    np.testing.assert_allclose(single_step["clv"].to_numpy(), plain["clv"].to_numpy() / 1.01**52)
    weekly = customer_lifetime_value(bgnbd, spend, cdnow_summary, horizon_units=52.0, discount_rate_per_unit=0.01)
    # Purchases spread over the year are discounted less than if all came at its end.
    assert np.all(weekly["clv"].to_numpy() >= single_step["clv"].to_numpy() - 1e-12)
    assert np.all(weekly["clv"].to_numpy() <= plain["clv"].to_numpy() + 1e-12)
    assert weekly["clv"].sum() < plain["clv"].sum()
    # Undiscounted expected purchases are reported unchanged.
    np.testing.assert_allclose(weekly["expected_txns"].to_numpy(), plain["expected_txns"].to_numpy())


def test_zero_horizon_has_no_value(models, cdnow_summary: pl.DataFrame) -> None:
    clv = customer_lifetime_value(*models, cdnow_summary, horizon_units=0.0, discount_rate_per_unit=0.05)
    assert (clv["clv"] == 0).all() and (clv["expected_txns"] == 0).all()


def test_model_parameters_frame(models) -> None:
    frame = model_parameters_frame(*models, time_unit_days=7.0)
    assert frame.schema == pl.Schema(
        {"model": pl.String, "parameter": pl.String, "value": pl.Float64, "log_likelihood": pl.Float64,
         "customers": pl.Int64, "time_unit": pl.String, "converged": pl.Boolean}
    )
    assert frame.select("model", "parameter").rows() == [
        ("bg_nbd", "r"), ("bg_nbd", "alpha"), ("bg_nbd", "a"), ("bg_nbd", "b"),
        ("gamma_gamma", "p"), ("gamma_gamma", "q"), ("gamma_gamma", "v"),
    ]
    assert frame.filter(pl.col("model") == "gamma_gamma")["customers"].unique().to_list() == [946]
    assert frame.filter(pl.col("model") == "bg_nbd")["log_likelihood"].unique().to_list() == [models[0].log_likelihood_]
    assert frame["time_unit"].unique().to_list() == ["week"]
    only_bgnbd = model_parameters_frame(models[0], time_unit_days=1.0)
    assert only_bgnbd.height == 4 and only_bgnbd["time_unit"].unique().to_list() == ["day"]
