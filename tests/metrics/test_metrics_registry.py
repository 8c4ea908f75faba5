"""The metric registry: one definition per metric, readable by people and checked like every project file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from metrics import RegistryError, default_registry, load_registry

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_registry_defines_every_headline_metric_once_in_both_languages():
    registry = default_registry()
    ids = [metric.id for metric in registry.metrics]
    assert len(ids) == len(set(ids))
    assert {m.id for m in registry.headline} == {
        "new_users", "new_customers", "activation_rate", "active_users", "transacting_users", "month1_retention",
        "txn_amount", "revenue", "spend", "cac", "ltv", "ltv_to_cac"}
    for metric in registry.metrics:
        assert metric.name.en and metric.definition.en
        assert re.search(r"[\u4e00-\u9fff]", metric.definition.zh), metric.id
    # A ceiling where lower is better, a floor where higher is better: "vs target" reads the metric's way.
    assert registry["cac"].target == "at_most" and registry["cac"].better == "lower"
    assert registry["revenue"].target == "at_least" and registry["revenue"].prorate


def test_every_mart_column_the_registry_reads_is_declared_by_a_table():
    registry = default_registry()
    tables = {t.table for t in __import__("assets.graph", fromlist=["WAREHOUSE_TABLES"]).WAREHOUSE_TABLES}
    for metric in registry.metrics:
        if metric.reads:
            assert metric.table in tables, (metric.id, metric.table)


def test_every_metric_a_page_names_is_in_the_registry():
    registry = default_registry()
    pages = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "dashboards").rglob("*.py"))
    named = set(re.findall(r'(?:metric_header|metric_name|window_text|cell|format_value)\(\s*"([a-z0-9_]+)"', pages))
    named |= {f"daily_{column}" for column in ("new_users", "active_users", "transacting_users", "txn_amount",
                                               "revenue")}
    assert named, "the pattern found no metric"
    assert sorted(m for m in named if m not in registry) == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("    unit: users\n", "    unit: people\n", 1), "metrics[0].unit"),
        (lambda t: t.replace("    window: month_to_date\n", "    window: last_week\n", 1), "unknown window 'last_week'"),
        (lambda t: t.replace("    formula: spend / new_customers", "    formula: spend / sign_ups"),
         "names 'sign_ups', which is not a headline metric"),
        (lambda t: t.replace("    reads: marts.kpi_daily.new_users\n    aggregate: sum\n",
                             "    reads: kpi_daily\n    aggregate: sum\n", 1), "'reads' must be schema.table.column"),
        (lambda t: t.replace("    better: higher\n", "    better: higher\n    colour: green\n", 1), "unknown key"),
        (lambda t: t.replace("  - id: new_customers", "  - id: new_users"), "metric 'new_users' is defined twice"),
    ],
)
def test_a_broken_registry_names_the_file_line_and_key(tmp_path, edit, message):
    text = (ROOT / "metrics" / "registry.yaml").read_text(encoding="utf-8")
    path = tmp_path / "registry.yaml"
    path.write_text(edit(text), encoding="utf-8")
    with pytest.raises(RegistryError) as raised:
        load_registry(path)
    assert str(path) in str(raised.value) and message in str(raised.value)
    assert raised.value.line is not None


def test_window_texts_fill_in_the_dates():
    registry = default_registry()
    text = registry.window_text("month_to_date", "en", start="2026-06-01", end="2026-06-30",
                                previous_start="2026-05-01", previous_end="2026-05-31")
    assert text.startswith("2026-06-01 to 2026-06-30 (month to date) vs 2026-05-01 to 2026-05-31")
    assert "本月至今" in registry.window_text("month_to_date", "zh", start="a", end="b")
