"""Missing, empty or incomplete marts give a plain "not available" note, never an error or a number."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dashboards import DashboardSettings, write_dashboards
from dashboards.pages import executive_page as executive


def test_no_marts_at_all_writes_every_page_with_notes(tmp_path: Path):
    paths = write_dashboards(tmp_path / "out", {}, DashboardSettings())

    assert [path.name for path in paths] == ["index.html", "executive.html", "growth.html", "value.html",
                                             "channels.html", "campaigns.html"]
    # Campaigns: overview, funnel and lift each say why they are empty.
    for page, sections in (("growth.html", 8), ("value.html", 6), ("channels.html", 6), ("campaigns.html", 3)):
        page_html = (tmp_path / "out" / page).read_text(encoding="utf-8")
        assert page_html.count('class="not-available"') == sections, page
        assert "Plotly.newPlot" not in page_html
    html = paths[1].read_text(encoding="utf-8")
    assert html.count('class="not-available"') == 7  # tiles, two trends, cohorts, channels, lifecycle, personas
    assert "not available: the kpi_daily mart was not provided" in html
    assert "not available: the persona mart was not provided" in html
    assert "Plotly.newPlot" not in html
    assert "not provided" in paths[0].read_text(encoding="utf-8")


def test_empty_mart_is_reported_as_empty(marts):
    marts["cohort_retention"] = marts["cohort_retention"].clear()
    cohort = next(s for s in executive.build_sections(marts, DashboardSettings()) if s.heading == "Cohort retention")

    assert cohort.figure is None
    assert cohort.unavailable == ("the cohort_retention mart has no rows",)


def test_missing_column_is_named(marts):
    marts["user_profile"] = marts["user_profile"].drop("lifecycle_stage")
    sections = executive.build_sections(marts, DashboardSettings())
    lifecycle = next(s for s in sections if s.heading == "Users by lifecycle stage")

    assert lifecycle.unavailable == ("the user_profile mart lacks column(s) lifecycle_stage",)
    assert sum(s.figure is not None for s in sections) == 5


def test_unknown_attribution_model_falls_back_to_one_that_exists(marts):
    marts["channel_roi"] = marts["channel_roi"].filter(pl.col("attribution_model") == "linear")
    channel = next(s for s in executive.build_sections(marts, DashboardSettings()) if s.heading == "Channel ROI")

    assert channel.figure is not None
    assert channel.figure.layout.title.text == "Channel spend and first-purchase revenue (linear)"


def test_zh_note_is_in_chinese(tmp_path: Path):
    html = write_dashboards(tmp_path, {}, DashboardSettings(language="zh"))[1].read_text(encoding="utf-8")

    assert "暂无数据：未提供数据表 kpi_daily" in html


def test_index_lists_pages_run_info_and_row_counts(marts, tmp_path: Path):
    index = write_dashboards(tmp_path, marts, DashboardSettings(), {"as_of": "2026-10-30", "run_id": "r1"})[0]
    html = index.read_text(encoding="utf-8")

    assert '<a href="executive.html">Executive summary</a>' in html
    assert "<td>As-of date</td><td>2026-10-30</td>" in html
    assert "<td>Generated at</td>" in html
    rows = marts["kpi_daily"].height
    assert f'<td>kpi_daily</td><td class="number">{rows}</td>' in html


def test_channels_without_spend_get_no_roas_label(marts):
    marts["channel_roi"] = marts["channel_roi"].with_columns(
        roas=pl.when(pl.col("channel") == "search").then(float("inf")).otherwise(pl.col("roas"))
    )
    channel = next(s for s in executive.build_sections(marts, DashboardSettings()) if s.heading == "Channel ROI")
    labels = dict(zip(channel.figure.data[1].x, channel.figure.data[1].text, strict=True))

    assert labels["search"] == ""
    assert labels["social"] == "ROAS 1.40×"
