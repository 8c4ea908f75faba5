"""Read the figures back from every rendered page, in English and Chinese, and check them against the marts and
against each other, in a real browser.

The pages come from the session's sample run (`fingrowth run` on 3,000 generated users; its English pages as the
run wrote them, its Chinese pages written from the same marts) and from a run on users and transactions alone.
What is checked, by kind:
- a figure appearing on two pages: the index headline and the executive tiles; ROAS on the executive chart and
  in the channel page's table; each equal to `marts.metric_values` / `marts.channel_roi`;
- a cumulative series: every payback curve and the holdout tracking never fall;
- a missing source: without marketing spend the pages say "no spend data", never ¥0.00, and draw no spend chart;
- a suppressed cell: persona × RFM cells below the minimum group size are marked "< 10", not drawn as blanks or 0;
- a zh label: persona, segment, channel, lifecycle and rule names reach the Chinese pages in Chinese;
- every chart: no chart's data is all zero or all null, and time charts start where the data does.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboards.marts import data_window, read_dashboard_marts
from dashboards import DashboardSettings, write_dashboards
from dashboards.html import FONT_STACK
from dashboards.labels import LABELS, channel_label, segment_label
from segments.rfm import RFM_SEGMENTS
from tests.dashboards.browser import check_page
from tests.pipelines.cli_runner import analytics_in_process

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = ("index", "executive", "growth", "value", "channels", "campaigns")
MIN_GROUP = 10

# Everything a test needs from a loaded page: tiles and table cells with their unformatted values, every plot's
# traces as plotly.js drew them (typed arrays turned into lists), the visible text and the SVG text of the charts.
READ_BACK_JS = """
const list = (v) => {
  if (v === undefined || v === null) return null;
  if (ArrayBuffer.isView(v)) return Array.from(v);
  if (Array.isArray(v)) return v.map(list);
  return v;
};
const tiles = Array.from(document.querySelectorAll('.tile[data-metric]')).map((t) => ({
  metric: t.dataset.metric, value: t.dataset.value, previous: t.dataset.previous,
  text: t.querySelector('.value').innerText,
  target: (t.querySelector('.target') || {}).className || null,
  targetMet: t.querySelector('.target') ? t.querySelector('.target').dataset.targetMet : null,
  changeColor: getComputedStyle(t.querySelector('.change')).color,
}));
const cells = Array.from(document.querySelectorAll('td[data-metric]')).map((c) => ({
  metric: c.dataset.metric, value: c.dataset.value, text: c.innerText,
  channel: (c.parentElement.querySelector('td[data-channel]') || {dataset: {}}).dataset.channel || null,
}));
const plots = Array.from(document.querySelectorAll('.js-plotly-plot')).map((div) => ({
  title: (div._fullLayout.title && div._fullLayout.title.text) || '',
  xrange: div._fullLayout.xaxis ? list(div._fullLayout.xaxis.range) : null,
  traces: div._fullData.map((t) => ({
    type: t.type, name: t.name || '', orientation: t.orientation || 'v', x: list(t.x), y: list(t.y),
    z: list(t.z), text: list(t.text), customdata: list(t.customdata),
  })),
  svgText: Array.from(div.querySelectorAll('text')).map((e) => e.textContent),
  barTextSizes: Array.from(div.querySelectorAll('text.bartext')).map(
    (e) => parseFloat(getComputedStyle(e).fontSize)),
}));
return {tiles, cells, plots, text: document.body.innerText,
        fontFamily: getComputedStyle(document.body).fontFamily};
"""


def read_back(driver, page: Path) -> dict:
    check = check_page(driver, page)
    assert check.severe_messages == [], (page.name, check.severe_messages)
    return driver.execute_script(READ_BACK_JS)


def numbers(values) -> list[float | None]:
    """Every number of a (possibly nested) trace array, nulls kept."""
    if values is None:
        return []
    if isinstance(values, list):
        return [n for v in values for n in numbers(v)]
    return [float(values)] if isinstance(values, int | float) and not isinstance(values, bool) else [None]


def data_values(trace: dict) -> list[float | None]:
    """The values a trace draws: z for heatmaps, the value axis for bars, lines and funnels."""
    if trace["type"] == "heatmap":
        return numbers(trace["z"])
    if trace["type"] in ("bar", "funnel") and (trace["orientation"] == "h" or trace["type"] == "funnel"):
        return numbers(trace["x"])
    if trace["type"] == "sankey":
        return [1.0]
    return numbers(trace["y"])


def plot(pages: dict, page: str, title_start: str, contains: str = "") -> dict:
    found = [p for p in pages[page]["plots"] if p["title"].startswith(title_start) and contains in p["title"]]
    assert len(found) == 1, (page, title_start, [p["title"] for p in pages[page]["plots"]])
    return found[0]


def close(a: float | None, b: float | None, rel: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == pytest.approx(b, rel=rel, abs=1e-9)


@pytest.fixture(scope="module")
def marts(sample_run) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as conn:
        return read_dashboard_marts(conn)


@pytest.fixture(scope="module")
def rendered(sample_run, marts, chromium, tmp_path_factory) -> dict[str, dict[str, dict]]:
    """language -> page -> what the browser read back."""
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as conn:
        as_of, currency, basis, data_from = data_window(conn)
    zh_dir = tmp_path_factory.mktemp("zh_pages")
    write_dashboards(zh_dir, marts, DashboardSettings(language="zh", currency=currency, as_of=as_of,
                                                      data_from=data_from),
                     {"as_of": f"{as_of} ({basis})"})
    folders = {"en": sample_run.dashboards, "zh": zh_dir}
    return {lang: {page: read_back(chromium, folder / f"{page}.html") for page in PAGES}
            for lang, folder in folders.items()}


def test_no_chart_is_all_zero_or_all_null(rendered):
    for lang, pages in rendered.items():
        for page, seen in pages.items():
            for shown in seen["plots"]:
                values = [v for trace in shown["traces"] if trace["name"] not in ("< 10", "no data", "无数据")
                          for v in data_values(trace)]
                assert any(v not in (None, 0.0) for v in values), (lang, page, shown["title"])


def test_headline_figures_agree_between_index_executive_and_the_mart(rendered, marts):
    current = {row["metric"]: row["value"] for row in marts["metric_values"].filter(
        pl.col("period") == "current").iter_rows(named=True)}
    for lang, pages in rendered.items():
        executive = {t["metric"]: t for t in pages["executive"]["tiles"]}
        index = {t["metric"]: t for t in pages["index"]["tiles"]}
        assert set(index) == {"new_users", "activation_rate", "month1_retention", "revenue", "cac", "ltv_to_cac"}
        assert len(executive) == 12
        for metric, tile in executive.items():
            assert close(float(tile["value"]) if tile["value"] else None, current[metric]), (lang, metric)
        for metric, tile in index.items():
            # The same figure on two pages: the same value and the same text.
            assert (tile["value"], tile["text"]) == (executive[metric]["value"], executive[metric]["text"]), metric
        # Whole users, never a fraction of a person.
        for metric in ("new_users", "new_customers", "active_users", "transacting_users"):
            assert "." not in executive[metric]["text"], executive[metric]


def test_tiles_agree_with_each_other(rendered):
    tiles = {t["metric"]: float(t["value"]) for t in rendered["en"]["executive"]["tiles"] if t["value"]}
    assert tiles["cac"] == pytest.approx(tiles["spend"] / tiles["new_customers"])
    assert tiles["ltv_to_cac"] == pytest.approx(tiles["ltv"] / tiles["cac"])


def test_good_and_bad_colours_show_on_the_tiles(rendered):
    colours = {t["changeColor"] for t in rendered["en"]["executive"]["tiles"]}
    # Green and red (the classes' colours) reach the screen; grey alone would mean a rule outranks them.
    assert colours & {"rgb(21, 128, 61)", "rgb(185, 28, 28)"}, colours


def test_roas_is_the_same_on_the_executive_chart_the_channel_table_and_the_mart(rendered, marts):
    roi = marts["channel_roi"].filter(pl.col("attribution_model") == "markov")
    mart = dict(roi.select("channel", "roas").iter_rows())
    for lang, pages in rendered.items():
        chart = plot(pages, "executive", "渠道支出" if lang == "zh" else "Channel spend")
        revenue = chart["traces"][1]
        charted = {channel: roas for channel, roas in revenue["customdata"]}
        table = {c["channel"]: float(c["value"]) for c in pages["channels"]["cells"] if c["metric"] == "roas"
                 and c["value"]}
        assert charted and table
        for channel, roas in table.items():
            assert close(roas, mart[channel]), (lang, channel)
            if channel in charted:
                assert close(charted[channel], roas), (lang, channel)
        # The label is readable, not shrunk to fit the bar.
        assert min(chart["barTextSizes"]) >= 11, chart["barTextSizes"]


def test_channel_cac_and_spend_per_sign_up_are_named_apart(rendered, marts):
    cells = rendered["en"]["channels"]["cells"]
    assert {c["metric"] for c in cells} >= {"channel_cac", "spend_per_signup", "roas", "payback_month"}
    quality = marts["channel_quality"].filter(pl.col("cohort") == "all")
    per_signup = dict(quality.select("acquisition_channel", "spend_per_signup").iter_rows())
    for cell in cells:
        if cell["metric"] == "spend_per_signup" and cell["value"]:
            assert close(float(cell["value"]), per_signup[cell["channel"]])
    assert "Spend per sign-up" in rendered["en"]["channels"]["text"]


def test_cohort_retention_cells_are_the_mart_and_unknown_is_never_zero(rendered, marts):
    mart = marts["cohort_retention"].filter((pl.col("cohort_basis") == "signup") & (pl.col("users") >= MIN_GROUP))
    expected = {(r["cohort"], r["period"]): r["retention_rate"] for r in mart.iter_rows(named=True)}
    heatmap = plot(rendered["en"], "executive", "Cohort retention")["traces"][0]
    cohorts = [label.split(" (n=")[0] for label in heatmap["y"]]
    seen = {(cohort, int(period)): heatmap["z"][i][j] for i, cohort in enumerate(cohorts)
            for j, period in enumerate(heatmap["x"]) if (cohort, int(period)) in expected}
    assert len(seen) == len(expected)
    for key, rate in expected.items():
        assert close(seen[key], rate), key


def test_cumulative_series_never_fall(rendered):
    pages = rendered["en"]
    curves = [*plot(pages, "channels", "Payback per sign-up")["traces"],
              *plot(pages, "channels", "Payback by acquisition month")["traces"],
              *plot(pages, "value", "Holdout check of", "cumulative")["traces"]]
    curves = [trace for trace in curves if trace["type"] == "scatter" and trace["y"]]
    assert len(curves) >= 5
    for trace in curves:
        values = [v for v in trace["y"] if v is not None]
        assert all(later >= earlier - 1e-9 for earlier, later in zip(values, values[1:])), trace["name"]
    # Payback starts at the sign-up month: no month -1 on the axis.
    assert plot(pages, "channels", "Payback per sign-up")["xrange"][0] > -1


def test_suppressed_cells_are_marked_not_blank(rendered, marts):
    counts = marts["user_segment"].group_by("persona_name", "rfm_segment").len()
    small = counts.filter(pl.col("len") < MIN_GROUP)
    assert small.height > 0  # the sample has small persona × segment cells, so the check has teeth
    for lang, pages in rendered.items():
        heatmap = plot(pages, "growth", "画像 × RFM" if lang == "zh" else "Personas across RFM segments")
        main, marks = heatmap["traces"][0], heatmap["traces"][1]
        shown = {tuple(key): (i, j) for i, row in enumerate(main["customdata"]) for j, key in enumerate(row)}
        for persona, segment, _ in small.iter_rows():
            if (persona, segment) not in shown:
                continue  # the whole persona is below the minimum
            i, j = shown[(persona, segment)]
            assert main["z"][i][j] is None and marks["text"][i][j] == f"< {MIN_GROUP}", (persona, segment)
        # A true zero is a 0, not a blank: every other cell has a number.
        assert all(main["z"][i][j] is not None or marks["text"][i][j] for i, j in shown.values())


def test_time_charts_start_where_the_data_does(rendered, marts):
    covered = marts["kpi_daily"].filter(pl.col("active_users").is_not_null() | pl.col("transactions").is_not_null())
    first_day = covered["date"].min().isoformat()
    assert first_day > marts["kpi_daily"]["date"].min().isoformat() or covered.height == marts["kpi_daily"].height
    for title in ("Acquisition and activity per day", "Transaction amount and revenue per day"):
        shown = plot(rendered["en"], "executive", title)
        assert shown["xrange"][0].startswith(first_day), (title, shown["xrange"])
        assert min(min(t["x"]) for t in shown["traces"]) >= first_day


def test_chinese_pages_name_everything_in_chinese(rendered, marts):
    zh = rendered["zh"]
    text = "\n".join(seen["text"] + "\n" + "\n".join(t for p in seen["plots"] for t in p["svgText"])
                     for seen in zh.values())
    persona = marts["persona"]
    for english, chinese in persona.select("persona_name", "persona_name_zh").iter_rows():
        assert chinese in text and english not in text, english
    for segment in marts["user_segment"]["rfm_segment"].unique().to_list():
        assert segment_label(segment, "zh") in text and segment_label(segment, "zh") != segment
    for segment in RFM_SEGMENTS:
        assert f">{segment}<" not in text
    for channel in marts["channel_roi"]["channel"].unique().to_list():
        assert channel_label(channel, "zh") != channel and channel not in text.replace("channel_", ""), channel
    for stage in ("Active", "Dormant", "Churned", "Never transacted"):
        assert stage not in text
    # Rules: their id stays (compliance reads it), with what it does in Chinese.
    funnel = marts["campaign_funnel"]["step"].unique().to_list()
    rules = [step for step in funnel if f"rule_{step}" in LABELS]
    assert rules
    for rule in rules:
        assert f"{rule} · {LABELS[f'rule_{rule}']['zh']}" in text
    assert "Noto Sans CJK SC" in zh["executive"]["fontFamily"] and "Noto Sans CJK SC" in FONT_STACK


def test_a_cjk_font_is_installed_for_the_browser():
    families = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True).stdout
    assert "Noto Sans CJK SC" in families, "make test installs fonts-noto-cjk; without it Chinese shows as boxes"


@pytest.fixture(scope="module")
def users_and_transactions_only(sample_run, chromium, tmp_path_factory) -> dict:
    """`fingrowth run` on the sample's users and transactions alone (a CDNOW-like purchase log)."""
    workdir = tmp_path_factory.mktemp("purchase_log_only")
    (workdir / "landing").mkdir()
    shutil.copy(sample_run.landing / "users.csv", workdir / "landing" / "users.csv")
    shutil.copytree(sample_run.landing / "transactions", workdir / "landing" / "transactions")
    result = analytics_in_process(workdir / "landing", workdir)
    assert result.code == 0, result.output
    with duckdb.connect(str(workdir / "w.duckdb"), read_only=True) as conn:
        marts = read_dashboard_marts(conn)
    pages = {page: read_back(chromium, workdir / "out" / "dashboards" / f"{page}.html") for page in PAGES}
    return {"marts": marts, "pages": pages}


def test_a_missing_source_says_so_instead_of_drawing_zero(users_and_transactions_only):
    marts, pages = users_and_transactions_only["marts"], users_and_transactions_only["pages"]
    assert marts["kpi_daily"]["spend"].is_null().all()
    spend = marts["metric_values"].filter(pl.col("metric") == "spend")
    assert spend["value"].is_null().all()
    tiles = {t["metric"]: t for t in pages["executive"]["tiles"]}
    assert tiles["spend"]["text"] == tiles["cac"]["text"] == tiles["ltv_to_cac"]["text"] == "no spend data"
    assert tiles["spend"]["value"] == ""
    assert "¥0.00" not in pages["executive"]["text"]
    assert "not available" in pages["channels"]["text"]
    for page, seen in pages.items():
        for shown in seen["plots"]:
            values = [v for trace in shown["traces"] for v in data_values(trace)]
            assert any(v not in (None, 0.0) for v in values), (page, shown["title"])
