"""Open every written page in headless Chromium: no console errors, every plot has points."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from dashboards import DashboardSettings, write_dashboards
from dashboards.html import Section, render_page
from dashboards.labels import label
from tests.dashboards import synthetic
from tests.dashboards.browser import check_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "zh"])
def test_pages_render_without_errors_and_plots_have_points(chromium, marts, tmp_path: Path, language: str):
    settings = DashboardSettings(language=language)
    paths = write_dashboards(tmp_path / language, marts, settings, {"as_of": "2026-10-30"})

    checks = {path.name: check_page(chromium, path) for path in paths}

    assert set(checks) == {"index.html", "executive.html", "growth.html", "value.html", "channels.html",
                           "campaigns.html"}
    assert checks["index.html"].problems(expect_plots=False) == []
    for page in ("executive.html", "growth.html", "value.html", "channels.html", "campaigns.html"):
        assert checks[page].problems(expect_plots=True) == [], page
    # KPI tiles aside, the executive page has six charts: two trends, cohorts, channels, lifecycle, personas.
    assert len(checks["executive.html"].plots) == 6
    # Growth: k evidence, persona x RFM, RFM sizes, movement, lifecycle history, two funnels (table is HTML).
    assert len(checks["growth.html"].plots) == 7
    # Value: tracking, by frequency, by channel, by persona, revenue retention (the model table is HTML).
    assert len(checks["value.html"].plots) == 5
    # Channels: models side by side and payback curves (ROI and quality are tables).
    assert len(checks["channels.html"].plots) == 2
    # Campaigns: the funnel of the one campaign large enough to show, and lift with its interval.
    assert len(checks["campaigns.html"].plots) == 2


def test_campaign_page_renders_from_dry_runs_alone(chromium, tmp_path: Path):
    paths = write_dashboards(tmp_path, synthetic.dry_run_only_campaign_marts(), DashboardSettings(language="zh"))
    page = next(path for path in paths if path.name == "campaigns.html")

    check = check_page(chromium, page)

    assert check.problems(expect_plots=True) == []
    assert len(check.plots) == 1
    assert label("campaign_no_sends", "zh") in page.read_text(encoding="utf-8")


def test_page_without_any_marts_still_loads_cleanly(chromium, tmp_path: Path):
    paths = write_dashboards(tmp_path, {}, DashboardSettings())

    for path in paths:
        check = check_page(chromium, path)
        assert check.problems(expect_plots=False) == []
        assert check.plots == []


def test_executive_screenshot(chromium, marts, tmp_path: Path):
    paths = write_dashboards(tmp_path, marts, DashboardSettings(currency="CNY"), {"as_of": "2026-10-30"})
    executive = next(path for path in paths if path.name == "executive.html")
    check_page(chromium, executive)
    height = chromium.execute_script("return document.documentElement.scrollHeight")
    chromium.set_window_size(1400, height)
    screenshot = tmp_path / "executive.png"

    assert chromium.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
    chromium.set_window_size(1400, 1000)


def test_checker_catches_empty_plots_and_console_errors(chromium, tmp_path: Path):
    broken = Section(
        "broken",
        figure=go.Figure(go.Scatter(x=[], y=[])),
        body_html="<script>throw new Error('deliberate failure');</script>",
    )
    # Plotly's default config, unlike ours, offers to upload the chart to Plotly Cloud.
    default_config = Section(
        "default config",
        body_html=pio.to_html(go.Figure(go.Bar(x=["a"], y=[1])), include_plotlyjs=False, full_html=False),
    )
    page = tmp_path / "broken.html"
    page.write_text(render_page("broken", [broken, default_config], DashboardSettings(), [], ""), encoding="utf-8")

    problems = check_page(chromium, page).problems(expect_plots=True)

    assert any("deliberate failure" in problem for problem in problems), problems
    assert any("has no trace with points" in problem for problem in problems), problems
    assert any("upload data off the machine" in problem for problem in problems), problems


def test_checker_reports_a_page_without_plots_when_plots_are_expected(chromium, tmp_path: Path):
    index = write_dashboards(tmp_path, {}, DashboardSettings())[0]

    assert check_page(chromium, index).problems(expect_plots=True) == [
        "page has no plots although plots were expected"
    ]
