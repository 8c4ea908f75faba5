"""Expected credit loss: roll rates to charge-off by delinquency bucket, censoring, LGD."""

from datetime import date

import polars as pl
import pytest

from value.credit_loss import CreditLossModel, delinquency_bucket
from value.errors import ModelFitError

MONTHS = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31),
          date(2026, 6, 30)]


def loan(loan_id, user_id, dpd, charged_off_from=None, principal=1000.0, loss=800.0):
    rows = []
    for i, month in enumerate(MONTHS):
        off = charged_off_from is not None and i >= charged_off_from
        rows.append((loan_id, user_id, month, principal, dpd[i], loss if off else 0.0))
    return rows


def frame(rows):
    return pl.DataFrame(rows, schema=["loan_id", "user_id", "as_of", "principal", "days_past_due",
                                      "charged_off_amount"], orient="row")


@pytest.fixture
def loans():
    rows = []
    for i in range(10):  # performing loans
        rows += loan(f"ok{i}", f"u{i}", [0] * 6)
    for i in range(4):  # loans that roll 30 -> 60 -> 90 -> charge off
        rows += loan(f"bad{i}", f"b{i}", [0, 35, 65, 95, 125, 155], charged_off_from=3)
    rows += loan("late", "x1", [0, 0, 0, 0, 0, 40])  # delinquent only in the latest snapshot
    return frame(rows)


def test_buckets():
    values = pl.Series([0, 1, 29, 30, 59, 60, 89, 90, None])
    assert pl.select(delinquency_bucket(pl.lit(values))).to_series().to_list() == [
        "current", "dpd_1_29", "dpd_1_29", "dpd_30_59", "dpd_30_59", "dpd_60_89", "dpd_60_89", "dpd_90_plus",
        "current"]


def test_charge_off_probability_rises_with_delinquency(loans):
    model = CreditLossModel(horizon_days=90, prior_loans=0).fit(loans)
    assert model.pd_by_bucket_["dpd_30_59"] == pytest.approx(1.0)
    assert model.pd_by_bucket_["dpd_60_89"] == pytest.approx(1.0)
    # Snapshots within 90 days of the data's end are censored: only Jan-Mar snapshots are fitted.
    current_fitted = 10 * 3 + 1 * 3 + 4 * 1
    assert model.snapshots_fitted_ == current_fitted + 4 * 2
    assert model.pd_by_bucket_["current"] == pytest.approx(4 / current_fitted)
    assert model.lgd_ == pytest.approx(0.8)


def test_expected_loss_per_user_at_as_of(loans):
    model = CreditLossModel(horizon_days=90, prior_loans=0).fit(loans)
    loss = model.expected_loss(loans).filter(pl.col("user_id").is_in(["u0", "x1", "b0"])).sort("user_id")
    by_user = {row["user_id"]: row for row in loss.iter_rows(named=True)}
    assert by_user["x1"]["expected_credit_loss"] == pytest.approx(1000 * 1.0 * 0.8)
    assert by_user["u0"]["expected_credit_loss"] == pytest.approx(1000 * (4 / 37) * 0.8)
    assert by_user["b0"]["open_loans"] == 0 and by_user["b0"]["charged_off"] == pytest.approx(800.0)
    # Cut at an earlier as-of: the bad loans are still open and 30-59 days past due.
    early = model.expected_loss(loans, as_of=date(2026, 2, 28)).filter(pl.col("user_id") == "b1")
    assert early["expected_credit_loss"].item() == pytest.approx(800.0)


def test_prior_pulls_sparse_buckets_towards_overall_rate(loans):
    model = CreditLossModel(horizon_days=90, prior_loans=20).fit(loans)
    assert 0 < model.pd_by_bucket_["dpd_1_29"] < 1  # no observations: the overall rate
    assert model.pd_by_bucket_["dpd_30_59"] < 1.0
    rates = list(model.pd_by_bucket_.values())
    assert rates == sorted(rates)  # never less likely with deeper delinquency


def test_no_snapshots_is_a_fit_error(loans):
    with pytest.raises(ModelFitError, match="no loan performance"):
        CreditLossModel().fit(loans, as_of=date(2025, 1, 1))


def test_history_shorter_than_the_horizon_is_a_fit_error(loans):
    with pytest.raises(ModelFitError, match="follow-up"):
        CreditLossModel(horizon_days=200).fit(loans)
