"""Headline targets: the YAML file, and "better/worse than target" read by each metric's direction."""

from __future__ import annotations

import pytest

from dashboards.kpis import EXECUTIVE_TILES, headline_tiles
from dashboards.page_settings import DashboardSettings
from dashboards.targets import TARGET_KEYS, TargetsError, load_targets
from dashboards.tiles import tiles_html
from metrics import default_registry
from tests.dashboards import synthetic


def test_targets_file_is_read(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("# comment\ntargets:\n  new_users: 900\n  cac: 150.5\n")
    assert load_targets(path) == {"new_users": 900.0, "cac": 150.5}


def test_every_metric_with_a_target_in_the_registry_can_be_given_one():
    assert set(TARGET_KEYS) == {m.id for m in default_registry().metrics if m.target is not None}
    assert {"new_users", "activation_rate", "month1_retention", "revenue", "cac", "ltv_to_cac"} <= set(TARGET_KEYS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("targets:\n  new_users: 900\n  revenu: 10\n", ":3: unknown KPI 'revenu'"),
        ("targets:\n  cac: cheap\n", ":2: target for 'cac' must be a number"),
        ("targets:\n  cac: -1\n", ":2: target for 'cac' must be positive"),
        ("target:\n  cac: 1\n", ":1: unknown key 'target'"),
        ("targets: [1, 2]\n", ":1: 'targets' must map"),
        ("targets:\n  cac: [1\n", "not valid YAML"),
        ("targets:\n  avg_ltv: 800\n", ":2: unknown KPI 'avg_ltv'"),
    ],
)
def test_bad_targets_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "targets.yaml"
    path.write_text(text)
    with pytest.raises(TargetsError) as raised:
        load_targets(path)
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_a_ceiling_beaten_reads_better_than_target_and_a_floor_missed_worse():
    # CAC 120.37 under a 180 ceiling is better; 1,800 sign-ups against 9,000 a month (prorated) is worse.
    tiles = {t.metric_id: t for t in headline_tiles(synthetic.metric_values(), EXECUTIVE_TILES,
                                                    {"cac": 180.0, "new_users": 9000.0, "revenue": 100_000.0})}

    assert tiles["cac"].target_gap == pytest.approx(1 - (130_000 / 1080) / 180)
    assert tiles["cac"].target_gap > 0
    # A monthly target of a sum is scaled to the 30 of October's 31 days the period covers.
    assert tiles["new_users"].target_to_date == pytest.approx(9000 * 30 / 31)
    assert tiles["new_users"].target_gap < 0
    assert tiles["revenue"].target_gap > 0
    html = tiles_html(list(tiles.values()), DashboardSettings())
    cac_tile = html.split('data-metric="cac"')[1].split('data-metric=')[0]
    assert "Target ≤ ¥180.00 (a ceiling): better than target by 33%" in cac_tile
    assert 'class="sub target change-good"' in cac_tile
    users_tile = html.split('data-metric="new_users"')[1].split('data-metric=')[0]
    assert 'class="sub target change-bad"' in users_tile and "worse than target by 79%" in users_tile
    assert "8,710 to date of 9,000 a month" in users_tile


def test_tiles_show_targets_only_where_set():
    html = tiles_html(headline_tiles(synthetic.metric_values(), EXECUTIVE_TILES, {"revenue": 1e12}),
                      DashboardSettings())
    assert html.count('class="sub target') == 1


def test_change_and_target_colours_outrank_the_grey_of_tile_text():
    from dashboards.html import STYLE

    # `.tile .sub` sets the grey; the coloured classes must be at least as specific and come later.
    grey = STYLE.index(".tile .sub {")
    assert STYLE.index(".tile .sub.change-good") > grey and STYLE.index(".tile .sub.change-bad") > grey
