"""Executive page: headline tiles against targets, daily trends, retention, channel return, lifecycle, personas."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from dashboards.availability import unavailable_reason
from dashboards.figures import (
    acquisition_activity_figure,
    channel_roi_figure,
    cohort_retention_figure,
    lifecycle_stage_figure,
    money_timeseries_figure,
    persona_size_figure,
    reported_model,
)
from dashboards.html import Section
from dashboards.kpis import EXECUTIVE_TILES, METRIC_VALUES_COLUMNS, headline_tiles
from dashboards.labels import label, value_label
from dashboards.metric_text import window_text
from dashboards.page_settings import DashboardSettings
from dashboards.privacy import all_suppressed_reason, hidden_note, suppress_small_groups
from dashboards.tiles import definitions_html, tiles_html

SLUG = "executive"
TITLE_KEY = "page_executive"

KPI_DAILY_COLUMNS = ["date", "new_users", "active_users", "transacting_users", "txn_amount", "revenue"]

Marts = Mapping[str, pl.DataFrame | None]


def kpi_section(marts: Marts, settings: DashboardSettings) -> Section:
    """Headline tiles: the month to date against the same days of the month before, and the targets."""
    lang = settings.language
    heading = label("kpis", lang)
    reason = unavailable_reason(marts, "metric_values", METRIC_VALUES_COLUMNS, lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    tiles = headline_tiles(marts["metric_values"], EXECUTIVE_TILES, dict(settings.targets))
    return Section(heading, body_html=tiles_html(tiles, settings) + definitions_html(tiles, settings),
                   explain=(label("explain_like_for_like", lang), label("explain_ltv_vs_roas", lang)))


def trend_sections(marts: Marts, settings: DashboardSettings) -> list[Section]:
    """Daily acquisition/activity and money charts over the window the data covers."""
    lang = settings.language
    acquisition = label("chart_acquisition", lang)
    money = label("chart_money", lang)
    reason = unavailable_reason(marts, "kpi_daily", KPI_DAILY_COLUMNS, lang)
    if reason:
        return [Section(acquisition, unavailable=(reason,)), Section(money, unavailable=(reason,))]
    kpi_daily = marts["kpi_daily"]
    window = window_text("daily_active_users", settings)
    return [
        Section(acquisition, figure=acquisition_activity_figure(kpi_daily, settings),
                notes=(window,), explain=(label("explain_month_end", lang),)),
        Section(money, figure=money_timeseries_figure(kpi_daily, settings), notes=(window,)),
    ]


def cohort_section(marts: Marts, settings: DashboardSettings) -> Section:
    """Retention heatmap without cohorts smaller than the minimum group size."""
    heading = label("chart_cohort", settings.language)
    columns = ["cohort", "period", "users", "retention_rate"]
    reason = unavailable_reason(marts, "cohort_retention", columns, settings.language)
    if reason:
        return Section(heading, unavailable=(reason,))
    retention = marts["cohort_retention"]
    if "cohort_basis" in retention.columns:
        retention = retention.filter(pl.col("cohort_basis") == "signup")
    shown = suppress_small_groups(retention, ["cohort"], "users", settings.min_group_size)
    notes = (window_text("retention_rate", settings), label("note_partial_month", settings.language),
             *hidden_note(shown.hidden_groups, "hidden_cohorts", settings))
    if shown.kept.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),), notes=notes)
    return Section(heading, figure=cohort_retention_figure(shown.kept, settings), notes=notes)


def channel_section(marts: Marts, settings: DashboardSettings) -> Section:
    """Spend and first-purchase revenue per channel, under the model the channel page reports."""
    lang = settings.language
    heading = label("chart_channel", lang)
    columns = ["channel", "attribution_model", "spend", "conversions", "revenue", "roas"]
    reason = unavailable_reason(marts, "channel_roi", columns, lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    channel_roi = marts["channel_roi"]
    model = reported_model(channel_roi)
    rows = channel_roi.filter(pl.col("attribution_model") == model)
    if rows.height == 0:
        return Section(heading, unavailable=(label("reason_no_model", lang, model=model),))
    if rows["spend"].sum() == 0:
        return Section(heading, unavailable=(label("reason_no_spend", lang),))
    shown = suppress_small_groups(rows, ["channel"], "conversions", settings.min_group_size)
    notes = (window_text("roas", settings), *hidden_note(shown.hidden_groups, "hidden_channels", settings))
    if shown.kept.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),), notes=notes)
    return Section(heading, figure=channel_roi_figure(shown.kept, settings, model), notes=notes,
                   explain=(label("explain_roas_first_purchase", lang, model=value_label("model", model, lang)),))


def lifecycle_section(marts: Marts, settings: DashboardSettings) -> Section:
    """User counts per lifecycle stage at the as-of date."""
    heading = label("chart_lifecycle", settings.language)
    reason = unavailable_reason(marts, "user_profile", ["lifecycle_stage"], settings.language)
    if reason:
        return Section(heading, unavailable=(reason,))
    counts = (
        marts["user_profile"]
        .group_by(pl.col("lifecycle_stage").cast(pl.String).fill_null("unknown"))
        .agg(pl.len().cast(pl.Int64).alias("users"))
    )
    shown = suppress_small_groups(counts, ["lifecycle_stage"], "users", settings.min_group_size)
    notes = (window_text("lifecycle_users", settings, window="at_as_of"),
             *hidden_note(shown.hidden_groups, "hidden_stages", settings))
    if shown.kept.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),), notes=notes)
    return Section(heading, figure=lifecycle_stage_figure(shown.kept, settings), notes=notes)


def persona_section(marts: Marts, settings: DashboardSettings) -> Section:
    """Users per persona."""
    heading = label("chart_persona", settings.language)
    reason = unavailable_reason(marts, "persona", ["persona_name", "users"], settings.language)
    if reason:
        return Section(heading, unavailable=(reason,))
    persona = marts["persona"]
    group = "persona_id" if "persona_id" in persona.columns else "persona_name"
    shown = suppress_small_groups(persona, [group], "users", settings.min_group_size)
    notes = (window_text("persona_users", settings), *hidden_note(shown.hidden_groups, "hidden_personas", settings))
    if shown.kept.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),), notes=notes)
    return Section(heading, figure=persona_size_figure(shown.kept, settings), notes=notes)


def build_sections(marts: Marts, settings: DashboardSettings) -> list[Section]:
    """Every section of the executive page, in reading order."""
    return [
        kpi_section(marts, settings),
        *trend_sections(marts, settings),
        cohort_section(marts, settings),
        channel_section(marts, settings),
        lifecycle_section(marts, settings),
        persona_section(marts, settings),
    ]
