"""Channel page, cohort view: ROAS and CAC per channel × acquisition month, payback curves per cohort."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from dashboards import DashboardSettings, write_dashboards
from dashboards.labels import label
from dashboards.pages import channels_page as channels
from tests.dashboards.browser import check_page

SMALL_CELL = ("social", "2026-03")  # 4 conversions: below the minimum group size
TINY_CHANNEL = "tiny_cohort_channel"  # below the minimum in every cohort


def _cohort_marts() -> dict[str, pl.DataFrame]:
    rows, curve = [], []
    cells = {("search", "2026-01"): (120.0, 6000.0, 9000.0), ("search", "2026-02"): (80.0, 6400.0, 4000.0),
             ("social", "2026-01"): (50.0, 2500.0, 1000.0), SMALL_CELL: (4.0, 800.0, 100.0),
             (TINY_CHANNEL, "2026-01"): (3.0, 300.0, 90.0), ("(direct)", "2026-01"): (400.0, 0.0, 20000.0)}
    for model, factor in (("markov", 1.0), ("last_touch", 0.8)):
        for (channel, cohort), (conversions, spend, revenue) in cells.items():
            age = 2 if cohort == "2026-01" else 1 if cohort == "2026-02" else 0
            credited = conversions * factor
            rows.append({"channel": channel, "cohort": cohort, "attribution_model": model, "cohort_age_months": age,
                         "spend": spend, "conversions": credited, "revenue": revenue * factor,
                         "cac": spend / credited if spend else 0.0, "roas": revenue * factor / spend if spend else None})
            for month in range(age + 1):
                cumulative = revenue * factor * (month + 1)
                curve.append({"channel": channel, "cohort": cohort, "attribution_model": model, "month": month,
                              "spend": spend, "cumulative_revenue": cumulative,
                              "recovered": cumulative / spend if spend else None})
    return {"channel_cohort_roi": pl.DataFrame(rows), "channel_cohort_payback": pl.DataFrame(curve)}


def _sections(marts, settings=None):
    settings = settings or DashboardSettings(min_group_size=10)
    built = channels.build_sections(marts, settings)
    return {s.heading: s for s in built}, built


def test_page_has_the_cohort_roas_heatmap_and_payback_curves():
    by_heading, built = _sections(_cohort_marts())
    roas_heading = label("chart_cohort_roas", "en", model="Markov chain")
    payback_heading = label("chart_cohort_payback", "en", model="Markov chain")
    assert [s.heading for s in built[-2:]] == [roas_heading, payback_heading]

    heatmap = by_heading[roas_heading].figure.data[0]
    assert heatmap.type == "heatmap"
    assert list(heatmap.y) == ["search", "social"]  # direct has no spend, the tiny channel no large cell
    assert list(heatmap.x) == ["2026-01", "2026-02", "2026-03"]
    z = {(c, m): heatmap.z[i][j] for i, c in enumerate(heatmap.y) for j, m in enumerate(heatmap.x)}
    assert z[("search", "2026-01")] == 9000.0 / 6000.0  # ROAS under the Markov model
    assert z[SMALL_CELL] is None and z[("social", "2026-02")] is None
    text = {(c, m): heatmap.text[i][j] for i, c in enumerate(heatmap.y) for j, m in enumerate(heatmap.x)}
    assert text[("search", "2026-01")] == "1.50×<br>¥50.00"  # ROAS and CAC (6,000 / 120)
    assert text[SMALL_CELL] == ""
    assert by_heading[roas_heading].notes[-1] == label("hidden_cells", "en", count=2, n=10)
    # Hidden cells of a channel that is shown are grey "< 10" cells, never blanks that read as nothing.
    marks = by_heading[roas_heading].figure.data[1]
    mark = {(c, m): marks.text[i][j] for i, c in enumerate(marks.y) for j, m in enumerate(marks.x)}
    assert mark[SMALL_CELL] == "< 10" and mark[("search", "2026-01")] == ""

    payback = by_heading[payback_heading].figure
    lines = {(trace.xaxis, trace.name): list(trace.y) for trace in payback.data}
    assert {name for _, name in lines} == {"2026-01", "2026-02"}
    assert len(lines) == 3  # search Jan and Feb, social Jan; social March is too small
    search_jan = next(trace for trace in payback.data if trace.name == "2026-01" and trace.xaxis == "x")
    assert list(search_jan.x) == [0, 1, 2]
    assert list(search_jan.y) == [9000.0 * k / 6000.0 for k in (1, 2, 3)]
    assert [a.text for a in payback.layout.annotations][:2] == ["search", "social"]  # one panel per channel


def test_cohort_view_never_names_a_small_group(tmp_path: Path):
    marts = _cohort_marts()
    _, built = _sections(marts)
    shown = " ".join(str(trace.y) + str(trace.x) + str(trace.name) for s in built if s.figure is not None
                     for trace in s.figure.data)
    assert TINY_CHANNEL not in shown
    page = next(p for p in write_dashboards(tmp_path, marts, DashboardSettings(min_group_size=10))
                if p.name == "channels.html").read_text(encoding="utf-8")
    assert TINY_CHANNEL not in page
    assert label("chart_cohort_roas", "en", model="Markov chain") in page


def test_model_falls_back_to_last_touch_and_labels_follow_the_language():
    marts = {name: frame.filter(pl.col("attribution_model") == "last_touch") for name, frame in _cohort_marts().items()}
    by_heading, _ = _sections(marts, DashboardSettings(language="zh", min_group_size=10))
    heading = label("chart_cohort_roas", "zh", model="末次触点")
    assert heading in by_heading
    heatmap = by_heading[heading].figure
    assert heatmap.layout.xaxis.title.text == label("axis_acquisition_month", "zh")
    assert label("chart_cohort_payback", "zh", model="末次触点") in by_heading


def test_missing_or_all_small_cohort_marts_say_so():
    _, built = _sections({})
    assert all(s.unavailable and s.figure is None for s in built[-2:])
    assert "channel_cohort_roi" in built[-2].unavailable[0]
    _, built = _sections(_cohort_marts(), DashboardSettings(min_group_size=10_000))
    assert all("minimum group size (10000)" in s.unavailable[0] for s in built[-2:])


@pytest.mark.browser
def test_channel_page_with_the_cohort_view_renders_in_chromium(chromium, marts, tmp_path: Path):
    paths = write_dashboards(tmp_path, {**marts, **_cohort_marts()}, DashboardSettings(min_group_size=10))
    check = check_page(chromium, next(path for path in paths if path.name == "channels.html"))

    assert check.problems(expect_plots=True) == []
    # models, payback by channel, the cohort heatmap and the cohort payback curves.
    assert len(check.plots) == 4
