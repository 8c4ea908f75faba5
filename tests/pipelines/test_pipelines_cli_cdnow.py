"""`fingrowth run --as-of 1997-09-30` on the CDNOW sample reproduces the published BG/NBD fit."""

import importlib.util
from pathlib import Path

import pytest

from sampledata import write_cdnow_landing
from tests.pipelines.cli_runner import analytics_in_process, query

# Fader, Hardie & Lee (2005), CDNOW sample, 39-week calibration period, time in weeks.
PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BG_NBD_LL = -9582.4
# Fader, Hardie & Lee (2005), "RFM and CLV": 946 repeat buyers; the paper writes v as gamma.
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
PUBLISHED_GAMMA_GAMMA_LL = -4055.9
# Fader & Hardie (2005), "A note on deriving the Pareto/NBD model".
PUBLISHED_PARETO_NBD = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}


def cdnow_sample() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / "datasets" / "CDNOW_sample.txt"


@pytest.mark.slow
def test_cdnow_run_recovers_published_bgnbd_parameters(tmp_path):
    landing = tmp_path / "landing"
    write_cdnow_landing(landing, cdnow_sample())
    result = analytics_in_process(landing, tmp_path, "--as-of", "1997-09-30")
    assert result.code == 0, result.output

    rows = query(tmp_path / "w.duckdb", "SELECT parameter, value, time_unit, customers, value_basis "
                                        "FROM marts.clv_model WHERE model = 'bg_nbd'")
    fitted = {parameter: value for parameter, value, *_ in rows}
    assert set(fitted) == set(PUBLISHED_BG_NBD)
    for parameter, published in PUBLISHED_BG_NBD.items():
        assert fitted[parameter] == pytest.approx(published, rel=0.01), parameter
    assert {time_unit for _, _, time_unit, _, _ in rows} == {"week"}
    assert {customers for *_, customers, _ in rows} == {2357}
    assert {basis for *_, basis in rows} == {"amount"}  # CDNOW has no revenue column

    every = query(tmp_path / "w.duckdb", "SELECT model, parameter, value, log_likelihood, customers, chosen "
                                         "FROM marts.clv_model")
    by_model = {}
    for model, parameter, value, log_likelihood, customers, chosen in every:
        by_model.setdefault(model, {"params": {}, "ll": log_likelihood, "customers": customers, "chosen": chosen})
        by_model[model]["params"][parameter] = value
    assert by_model["bg_nbd"]["ll"] == pytest.approx(PUBLISHED_BG_NBD_LL, abs=0.1)
    for model, published, log_likelihood in (("gamma_gamma", PUBLISHED_GAMMA_GAMMA, PUBLISHED_GAMMA_GAMMA_LL),
                                             ("pareto_nbd", PUBLISHED_PARETO_NBD, -9595.0)):
        for parameter, value in published.items():
            assert by_model[model]["params"][parameter] == pytest.approx(value, rel=0.01), (model, parameter)
        assert by_model[model]["ll"] == pytest.approx(log_likelihood, abs=0.5), model
    assert by_model["gamma_gamma"]["customers"] == 946 and by_model["gamma_gamma"]["chosen"]
    selection = dict(query(tmp_path / "w.duckdb", "SELECT model, log_likelihood FROM marts.clv_model_selection"))
    chosen = [m for m, c in query(tmp_path / "w.duckdb", "SELECT model, chosen FROM marts.clv_model_selection") if c]
    assert set(selection) == {"bg_nbd", "pareto_nbd", "mbg_nbd"}
    assert chosen == [max(selection, key=selection.get)]

    # Only users and transactions: the run still finishes and says what it skipped.
    assert "skipped" in result.output or "absent" in result.output
    assert "touchpoints" in result.output
    as_of = query(tmp_path / "w.duckdb", "SELECT as_of, as_of_basis FROM core.analysis_window")[0]
    assert str(as_of[0]) == "1997-09-30" and as_of[1] == "given"
    latest_purchase = query(tmp_path / "w.duckdb", "SELECT max(txn_date) FROM core.purchases")[0][0]
    assert str(latest_purchase) <= "1997-09-30"


@pytest.mark.slow
@pytest.mark.browser
def test_cdnow_holdout_check_39_plus_39_weeks_is_on_the_dashboard(tmp_path):
    from tests.dashboards.browser import check_page, headless_chromium

    landing = tmp_path / "landing"
    write_cdnow_landing(landing, cdnow_sample())
    result = analytics_in_process(landing, tmp_path, "--as-of", "1998-06-30", "--holdout-weeks", "39")
    assert result.code == 0, result.output
    warehouse = tmp_path / "w.duckdb"
    tracking = query(warehouse, "SELECT week, period_end, actual_holdout, predicted_holdout, actual_cumulative, "
                                "predicted_cumulative FROM marts.clv_holdout_tracking ORDER BY week")
    assert len(tracking) == 39 and str(tracking[-1][1]) == "1998-06-30"
    # Repeat purchase days (same-day merged) in weeks 40-78 by the 2,357 customers of the sample.
    assert tracking[-1][2] == 1882
    assert 0.8 < tracking[-1][3] / tracking[-1][2] < 1.05
    assert 0.9 < tracking[-1][5] / tracking[-1][4] < 1.1  # the tracking plot: cumulative from first purchase
    buckets = query(warehouse, "SELECT min_frequency, users, predicted_mean FROM marts.clv_holdout_by_frequency "
                               "ORDER BY min_frequency")
    assert sum(users for _, users, _ in buckets) == 2357
    predicted = [p for *_, p in buckets]
    assert predicted == sorted(predicted)
    with headless_chromium(tmp_path / "profile") as driver:
        check = check_page(driver, tmp_path / "out" / "dashboards" / "value.html")
    assert check.problems(expect_plots=True) == []
    assert "Holdout check" in (tmp_path / "out" / "dashboards" / "value.html").read_text(encoding="utf-8")
    assert len(check.plots) >= 3
