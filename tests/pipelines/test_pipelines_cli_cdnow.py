"""`fingrowth run --as-of 1997-09-30` on the CDNOW sample reproduces the published BG/NBD fit."""

import importlib.util
from pathlib import Path

import pytest

from sampledata import write_cdnow_landing
from tests.pipelines.cli_runner import query, run_analytics

# Fader, Hardie & Lee (2005), CDNOW sample, 39-week calibration period, time in weeks.
PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def cdnow_sample() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / "datasets" / "CDNOW_sample.txt"


@pytest.mark.slow
def test_cdnow_run_recovers_published_bgnbd_parameters(tmp_path):
    landing = tmp_path / "landing"
    write_cdnow_landing(landing, cdnow_sample())
    result = run_analytics(landing, tmp_path, "--as-of", "1997-09-30")
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

    # Only users and transactions: the run still finishes and says what it skipped.
    assert "skipped" in result.output or "absent" in result.output
    assert "touchpoints" in result.output
    as_of = query(tmp_path / "w.duckdb", "SELECT as_of, as_of_basis FROM core.analysis_window")[0]
    assert str(as_of[0]) == "1997-09-30" and as_of[1] == "given"
    latest_purchase = query(tmp_path / "w.duckdb", "SELECT max(txn_date) FROM core.purchases")[0][0]
    assert str(latest_purchase) <= "1997-09-30"
