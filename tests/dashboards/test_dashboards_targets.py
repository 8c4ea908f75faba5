"""Executive KPI targets: the YAML file, month-over-month change, attainment, and what the tiles show."""

from __future__ import annotations

import pytest

from dashboards.kpis import compute_kpi_summary
from dashboards.page_settings import DashboardSettings
from dashboards.targets import TargetsError, load_targets
from dashboards.tiles import kpi_tiles_html
from tests.dashboards import synthetic


def test_targets_file_is_read(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("# comment\ntargets:\n  new_users: 900\n  cac: 150.5\n")
    assert load_targets(path) == {"new_users": 900.0, "cac": 150.5}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("targets:\n  new_users: 900\n  revenu: 10\n", ":3: unknown KPI 'revenu'"),
        ("targets:\n  cac: cheap\n", ":2: target for 'cac' must be a number"),
        ("targets:\n  cac: -1\n", ":2: target for 'cac' must be positive"),
        ("target:\n  cac: 1\n", ":1: unknown key 'target'"),
        ("targets: [1, 2]\n", ":1: 'targets' must map"),
        ("targets:\n  cac: [1\n", "not valid YAML"),
    ],
)
def test_bad_targets_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "targets.yaml"
    path.write_text(text)
    with pytest.raises(TargetsError) as raised:
        load_targets(path)
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_month_over_month_and_attainment():
    daily = synthetic.kpi_daily(days=70).sort("date")
    last_30, previous_30 = daily.tail(30), daily.slice(10, 30)
    tiles = {t.key: t for t in compute_kpi_summary(daily, 1000.0, {"revenue": 1.0, "cac": 1e9}).tiles}
    revenue = tiles["revenue"]
    assert revenue.month_over_month == pytest.approx(last_30["revenue"].sum() / previous_30["revenue"].sum() - 1)
    assert revenue.target_attainment == pytest.approx(last_30["revenue"].sum())
    # CAC is a ceiling: far under the ceiling is far above 100% attainment.
    assert tiles["cac"].target_attainment > 1
    assert tiles["new_users"].target is None and tiles["new_users"].target_attainment is None


def test_tiles_show_targets_only_where_set():
    daily = synthetic.kpi_daily(days=70)
    summary = compute_kpi_summary(daily, 1000.0, {"revenue": 1e12})
    html = kpi_tiles_html(summary, DashboardSettings())
    assert html.count('class="sub target') == 1
    assert "of target" in html and "vs previous 30 days" in html
    revenue_tile = html.split('data-kpi="revenue"')[1].split('data-kpi=')[0]
    assert 'class="sub target change-bad"' in revenue_tile  # far below a huge target
