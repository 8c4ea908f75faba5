"""Executive page: KPI tiles, daily trends, retention, channel ROI, lifecycle and personas."""

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
)
from dashboards.html import Section
from dashboards.kpis import KPI_DAILY_COLUMNS, compute_kpi_summary
from dashboards.labels import label
from dashboards.privacy import all_suppressed_reason, hidden_note, suppress_small_groups
from dashboards.page_settings import DashboardSettings
from dashboards.tiles import kpi_tiles_html

SLUG = "executive"
TITLE_KEY = "page_executive"

# Last touch is what most finance marketing teams report on; other models belong on the channel page.
PREFERRED_ATTRIBUTION_MODEL = "last_touch"

Marts = Mapping[str, pl.DataFrame | None]


def _average_ltv(marts: Marts, settings: DashboardSettings) -> float | None:
    if unavailable_reason(marts, "user_clv", ["clv"], settings.language) is not None:
        return None
    clv = marts["user_clv"]["clv"].cast(pl.Float64).drop_nulls()
    # An average over a handful of people would reveal individuals' values.
    return float(clv.mean()) if clv.len() >= settings.min_group_size else None


def kpi_section(marts: Marts, settings: DashboardSettings) -> Section:
    """KPI tiles over the latest 7 and 30 days."""
    heading = label("kpis", settings.language)
    reason = unavailable_reason(marts, "kpi_daily", KPI_DAILY_COLUMNS, settings.language)
    if reason:
        return Section(heading, unavailable=(reason,))
    summary = compute_kpi_summary(marts["kpi_daily"], _average_ltv(marts, settings), dict(settings.targets))
    return Section(heading, body_html=kpi_tiles_html(summary, settings))


def trend_sections(marts: Marts, settings: DashboardSettings) -> list[Section]:
    """Daily acquisition/activity and money charts."""
    lang = settings.language
    acquisition = label("chart_acquisition", lang)
    money = label("chart_money", lang)
    reason = unavailable_reason(marts, "kpi_daily", KPI_DAILY_COLUMNS, lang)
    if reason:
        return [Section(acquisition, unavailable=(reason,)), Section(money, unavailable=(reason,))]
    kpi_daily = marts["kpi_daily"]
    return [
        Section(acquisition, figure=acquisition_activity_figure(kpi_daily, settings)),
        Section(money, figure=money_timeseries_figure(kpi_daily, settings)),
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
    notes = hidden_note(shown.hidden_groups, "hidden_cohorts", settings)
    if shown.kept.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),), notes=notes)
    return Section(heading, figure=cohort_retention_figure(shown.kept, settings), notes=notes)


def channel_section(marts: Marts, settings: DashboardSettings) -> Section:
    """Spend and attributed revenue per channel for one attribution model."""
    lang = settings.language
    heading = label("chart_channel", lang)
    columns = ["channel", "attribution_model", "spend", "conversions", "revenue", "roas"]
    reason = unavailable_reason(marts, "channel_roi", columns, lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    channel_roi = marts["channel_roi"]
    models = sorted(channel_roi["attribution_model"].drop_nulls().unique().to_list())
    model = PREFERRED_ATTRIBUTION_MODEL if PREFERRED_ATTRIBUTION_MODEL in models else (models or [""])[0]
    rows = channel_roi.filter(pl.col("attribution_model") == model)
    if rows.height == 0:
        return Section(heading, unavailable=(label("reason_no_model", lang, model=model),))
    shown = suppress_small_groups(rows, ["channel"], "conversions", settings.min_group_size)
    notes = hidden_note(shown.hidden_groups, "hidden_channels", settings)
    if shown.kept.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),), notes=notes)
    return Section(heading, figure=channel_roi_figure(shown.kept, settings, model), notes=notes)


def lifecycle_section(marts: Marts, settings: DashboardSettings) -> Section:
    """User counts per lifecycle stage."""
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
    notes = hidden_note(shown.hidden_groups, "hidden_stages", settings)
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
    notes = hidden_note(shown.hidden_groups, "hidden_personas", settings)
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
