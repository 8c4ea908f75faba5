"""Campaign page: every rule of the funnel with its counts, results, lift with its interval, no contact data."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import polars as pl

from campaigns import load_campaign, load_template, template_path
from campaigns.delivery.plan_records import plan_campaign
from campaigns.results.campaign_pages import campaign_page_frames
from dashboards import DashboardSettings, write_dashboards
from dashboards.labels import label, rule_label
from dashboards.pages import campaigns_page as campaigns
from tests.dashboards import synthetic
from tests.pipelines.campaign_warehouse import (
    DECIDED_AT,
    USERS,
    build_warehouse,
    copy_store_into,
    email_of,
    store_of,
    write_campaign,
)
from warehouse import connect

ROW = re.compile(r"<tr>(.*?)</tr>", re.DOTALL)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.DOTALL)


def table_rows(html: str) -> list[list[str]]:
    return [[unescape(cell) for cell in CELL.findall(row)] for row in ROW.findall(html) if "<td" in row]


def funnel_section(sections, campaign_id: str):
    return next(s for s in sections if s.heading == label("chart_campaign_funnel", "en", campaign=campaign_id))


def test_funnel_lists_every_rule_in_order_with_its_counts(marts):
    settings = DashboardSettings()
    section = funnel_section(campaigns.build_sections(marts, settings), synthetic.LAUNCHED_CAMPAIGN)

    rows = table_rows(section.body_html)
    expected = [[label("step_audience", "en") if step == "audience" else
                 label("step_holdout", "en") if step == "holdout" else rule_label(step, "en"),
                 f"{remaining:,}", f"{excluded:,}", f"{failing:,}"]
                for step, remaining, excluded, failing in synthetic.SPRING_FUNNEL]
    assert rows == expected
    # The chart draws the same steps and numbers.
    assert list(section.figure.data[0].x) == [remaining for _, remaining, _, _ in synthetic.SPRING_FUNNEL]


def test_small_campaigns_and_small_counts_are_not_shown(marts, tmp_path: Path):
    settings = DashboardSettings()
    sections = campaigns.build_sections(marts, settings)
    headings = [s.heading for s in sections]
    assert label("chart_campaign_funnel", "en", campaign=synthetic.SMALL_CAMPAIGN) not in headings
    overview = sections[0]
    assert synthetic.SMALL_CAMPAIGN not in overview.body_html
    assert label("hidden_campaigns", "en", count=1, n=10) in overview.notes
    # Five bounces is a group below the minimum: shown as "< 10", not as the number.
    spring = next(r for r in table_rows(overview.body_html) if r[0] == synthetic.LAUNCHED_CAMPAIGN)
    assert spring[2:] == ["400", "225", "25", "150", "225", "220", "90", "31", "< 10", "12"]

    page = write_dashboards(tmp_path, marts, settings)[-1].read_text(encoding="utf-8")
    assert synthetic.SMALL_CAMPAIGN not in page


def test_lift_shows_both_groups_and_the_interval(marts):
    section = campaigns.lift_section(marts, DashboardSettings())
    lift = marts["campaign_lift"].row(0, named=True)

    [row] = table_rows(section.body_html)
    assert row[0] == synthetic.LAUNCHED_CAMPAIGN
    assert row[1] == "225" and row[3] == f"{lift['treated_rate']:.1%}"
    assert row[5] == "< 10"  # two converted people in the holdout
    assert row[8] == f"[{lift['lift_low'] * 100:+.1f} pp, {lift['lift_high'] * 100:+.1f} pp]"
    error = section.figure.data[0].error_x
    assert error.array[0] + lift["lift"] == lift["lift_high"]
    assert lift["lift"] - error.arrayminus[0] == lift["lift_low"]


def test_before_any_launch_the_page_says_no_sends_yet(tmp_path: Path):
    settings = DashboardSettings(language="zh")
    sections = campaigns.build_sections(synthetic.dry_run_only_campaign_marts(), settings)

    assert label("campaign_no_sends", "zh") in sections[0].notes
    assert sections[1].figure is not None
    assert sections[-1].unavailable == (label("reason_no_lift", "zh"),)
    nothing = campaigns.build_sections({}, settings)
    assert label("campaign_no_sends", "zh") in nothing[0].notes


def test_page_built_from_a_warehouse_matches_the_plan_and_holds_no_contact_data(tmp_path: Path):
    warehouse = build_warehouse(tmp_path / "w.duckdb", approve=False)
    campaign = load_campaign(write_campaign(tmp_path, "from_warehouse", holdout_pct=20))
    with connect(warehouse, read_only=True) as conn:
        plan = plan_campaign(conn, store_of(warehouse), campaign, load_template(template_path("wealth_welcome", 1)),
                             "mei", DECIDED_AT, "https://example.com/u", kind="launch")
    copy_store_into(warehouse)  # as the run's campaign_ledger step does
    with connect(warehouse) as conn:
        frames = campaign_page_frames(conn)
    settings = DashboardSettings(min_group_size=5)

    funnel = frames["campaign_funnel"].filter(pl.col("campaign_id") == "from_warehouse")
    assert funnel["source"].unique().to_list() == ["launch"]
    assert dict(funnel.select("step", "excluded").iter_rows())["CN-EM-01"] == 5
    expected = plan.result.funnel.select("step", "remaining", "excluded", "failing")
    assert funnel.select("step", "remaining", "excluded", "failing").equals(expected)
    results = frames["campaign_results"].row(0, named=True)
    assert (results["audience"], results["send"], results["holdout"], results["excluded"]) == (
        len(USERS), plan.counts["send"], plan.counts["holdout"], plan.counts["excluded"])

    page = write_dashboards(tmp_path / "out", frames, settings)[-1]
    html = page.read_text(encoding="utf-8")
    assert page.name == "campaigns.html"
    rows = table_rows(funnel_section(campaigns.build_sections(frames, settings), "from_warehouse").body_html)
    assert [r[0] for r in rows[1:-1]] == [rule_label(step, "en") for step in expected["step"].to_list()[1:-1]]
    assert [rule_label("CN-EM-01", "en"), "25", "5", "5"] in rows
    assert rule_label("CN-EM-01", "en") == "CN-EM-01 · Prior consent for commercial e-mail"
    assert label("campaign_no_sends", "en") in html
    assert "@" not in re.sub(r"<script.*?</script>", "", html, flags=re.DOTALL)
    assert not any(email_of(user) in html for user in USERS)
    assert not re.search(r"\bu\d\d\b", html), "a user id reached the page"
