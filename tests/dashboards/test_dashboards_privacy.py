"""Minimum group size: small cohorts, channels, stages and personas never reach a page."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dashboards import DashboardSettings, write_dashboards
from dashboards.pages import executive_page as executive
from dashboards.privacy import suppress_small_groups
from tests.dashboards import synthetic


def test_suppress_small_groups_uses_largest_size_per_group_and_counts_hidden_groups():
    frame = pl.DataFrame(
        {"group": ["a", "a", "b", "b", "c", None], "size": [12, 3, 9, 9, None, 50]},
        schema_overrides={"size": pl.Int64},
    )

    shown = suppress_small_groups(frame, ["group"], "size", 10)

    assert shown.kept["group"].to_list() == ["a", "a", None]
    assert shown.hidden_groups == 2  # b (9) and c (unknown size)


def _figure_sections(marts, settings):
    return {section.heading: section for section in executive.build_sections(marts, settings)}


def test_small_groups_are_absent_from_every_chart(marts):
    settings = DashboardSettings(min_group_size=10)
    sections = executive.build_sections(marts, settings)
    shown_values = {
        str(value)
        for section in sections
        if section.figure is not None
        for trace in section.figure.data
        for axis in ("x", "y")
        for value in (getattr(trace, axis) if getattr(trace, axis) is not None else [])
    }

    assert not any(synthetic.SMALL_COHORT in value for value in shown_values)
    assert synthetic.SMALL_CHANNEL not in shown_values
    assert synthetic.SMALL_PERSONA not in shown_values
    assert "Reactivated" not in shown_values
    notes = [note for section in sections for note in section.notes]
    assert "1 cohort(s) smaller than 10 people hidden." in notes
    assert "1 channel(s) with fewer than 10 conversions hidden." in notes
    assert "1 persona(s) with fewer than 10 people hidden." in notes
    assert "1 lifecycle stage(s) with fewer than 10 people hidden." in notes


def test_lower_minimum_shows_the_same_groups(marts):
    sections = executive.build_sections(marts, DashboardSettings(min_group_size=1))
    labels = {
        str(value)
        for section in sections
        if section.figure is not None
        for trace in section.figure.data
        for value in (trace.y if trace.y is not None else [])
    }

    assert synthetic.SMALL_PERSONA in labels
    assert any(synthetic.SMALL_COHORT in value for value in labels)
    assert not any("hidden" in note for section in sections for note in section.notes)


def test_written_page_never_names_a_hidden_group(marts, tmp_path: Path):
    paths = write_dashboards(tmp_path, marts, DashboardSettings(min_group_size=10))
    html = next(path for path in paths if path.name == "executive.html").read_text(encoding="utf-8")

    assert synthetic.SMALL_CHANNEL not in html
    assert synthetic.SMALL_PERSONA not in html
    assert f"{synthetic.SMALL_COHORT} (n=" not in html


def test_when_every_group_is_small_the_section_says_so(marts):
    settings = DashboardSettings(min_group_size=10_000)
    sections = executive.build_sections(marts, settings)
    charts_needing_groups = [s for s in sections if s.unavailable]

    assert len(charts_needing_groups) == 4  # cohorts, channels, lifecycle, personas
    assert all("minimum group size (10000)" in s.unavailable[0] for s in charts_needing_groups)
    assert all(s.figure is None for s in charts_needing_groups)




def test_growth_and_value_pages_hide_small_groups(tmp_path: Path):
    from dashboards.pages import growth_page as growth, value_page as value

    marts = synthetic.all_marts()
    settings = DashboardSettings(min_group_size=10)
    growth_sections = {s.heading: s for s in growth.build_sections(marts, settings)}
    persona_table = growth_sections["Personas"].body_html
    assert synthetic.SMALL_PERSONA not in persona_table and "Young savers" in persona_table
    heatmap = growth_sections["Personas across RFM segments"].figure
    assert synthetic.SMALL_PERSONA not in heatmap.data[0].y
    value_sections = {s.heading: s for s in value.build_sections(marts, settings)}
    by_channel = value_sections["Mean CLV over the next 365 days by acquisition channel, gross and net of credit "
                                "loss"].figure
    assert "tiny_channel" not in by_channel.data[0].customdata and "app_store" in by_channel.data[0].customdata
    assert "App store" in by_channel.data[0].y  # channels are shown by their names, not their ids
    by_frequency = value_sections["Holdout check of BG/NBD: repeat transactions per customer by calibration "
                                  "frequency"].figure
    assert "7+" not in by_frequency.data[0].x
    written = write_dashboards(tmp_path, marts, settings)
    assert not any("tiny_channel" in p.read_text(encoding="utf-8") for p in written)


def test_channel_page_hides_small_channels():
    from dashboards.pages import channels_page as channels

    marts = synthetic.all_marts()
    sections = channels.build_sections(marts, DashboardSettings(min_group_size=10))
    text = " ".join(s.body_html for s in sections) + " ".join(
        str(trace.x) + str(trace.name) for s in sections if s.figure is not None for trace in s.figure.data)
    assert synthetic.SMALL_CHANNEL not in text
    assert "search" in text


def test_funnels_count_users_reaching_each_step():
    from dashboards.pages import growth_page as growth

    marts = synthetic.all_marts()
    section = growth.funnel_section(marts, DashboardSettings(), "credit_funnel_stage", growth.CREDIT_FUNNEL,
                                    "chart_credit_funnel")
    counts = list(section.figure.data[0].x)
    # 200 users, 40 at each of registered, kyc_passed, applied, drawn, repaying; nobody stops at approved.
    assert counts == [200, 160, 120, 80, 80, 40]


def test_persona_movement_shows_the_latest_flows_above_the_minimum():
    from dashboards.pages import growth_page as growth

    section = growth.movement_section(synthetic.all_marts(), DashboardSettings(min_group_size=10))
    link = section.figure.data[0].link
    assert sorted(link.value) == [12, 50, 80]  # the 3-user flow is hidden; older and RFM flows are not shown
    assert section.notes and "1 cell" in section.notes[0]
