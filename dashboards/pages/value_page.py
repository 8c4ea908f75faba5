"""Lifetime-value page: how far to trust the models (holdout check), value by channel and persona, the fits."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl

from dashboards.availability import unavailable_reason
from dashboards.figures import FIGURE_HEIGHT, base_layout
from dashboards.formatting import money_axis
from dashboards.html import Section, table_html
from dashboards.labels import label
from dashboards.privacy import all_suppressed_reason
from dashboards.page_settings import DashboardSettings

SLUG = "value"
TITLE_KEY = "page_value"

Marts = Mapping[str, pl.DataFrame | None]

TRACKING_COLUMNS = ["week", "actual_cumulative", "predicted_cumulative"]
BY_FREQUENCY_COLUMNS = ["frequency_bucket", "users", "actual_mean", "predicted_mean"]
GROUP_COLUMNS = ["grouping", "group", "users", "mean_clv", "mean_risk_adjusted_clv"]


def tracking_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("chart_tracking", lang)
    reason = unavailable_reason(marts, "clv_holdout_tracking", TRACKING_COLUMNS, lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    rows = marts["clv_holdout_tracking"].sort("week")
    fig = go.Figure([
        go.Scatter(x=rows["week"].to_list(), y=rows["actual_cumulative"].to_list(), mode="lines",
                   name=label("series_actual", lang)),
        go.Scatter(x=rows["week"].to_list(), y=rows["predicted_cumulative"].to_list(), mode="lines",
                   line={"dash": "dash"}, name=label("series_predicted", lang)),
    ])
    if "is_holdout" in rows.columns and rows["is_holdout"].any():
        first_holdout_week = rows.filter(pl.col("is_holdout"))["week"].min()
        fig.add_vline(x=first_holdout_week - 0.5, line_dash="dot", line_color="#6b7280",
                      annotation_text=label("calibration_end", lang), annotation_position="top left")
    base_layout(fig, heading, label("axis_week", lang), label("axis_transactions", lang))
    fig.update_yaxes(tickformat=",", rangemode="tozero")
    return Section(heading, figure=fig)


def by_frequency_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("chart_by_frequency", lang)
    reason = unavailable_reason(marts, "clv_holdout_by_frequency", BY_FREQUENCY_COLUMNS, lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    # A bucket of a handful of people would reveal their purchases.
    rows = marts["clv_holdout_by_frequency"].filter(pl.col("users") >= settings.min_group_size)
    if rows.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    buckets = rows["frequency_bucket"].cast(pl.String).to_list()
    fig = go.Figure([
        go.Bar(x=buckets, y=rows["actual_mean"].to_list(), name=label("series_actual", lang)),
        go.Bar(x=buckets, y=rows["predicted_mean"].to_list(), name=label("series_predicted", lang)),
    ])
    base_layout(fig, heading, label("axis_frequency", lang), label("axis_transactions", lang))
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category")
    return Section(heading, figure=fig)


def value_by_group_section(marts: Marts, settings: DashboardSettings, grouping: str, heading_key: str) -> Section:
    lang = settings.language
    heading = label(heading_key, lang)
    reason = unavailable_reason(marts, "value_by_group", GROUP_COLUMNS, lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    rows = (
        marts["value_by_group"]
        .filter((pl.col("grouping") == grouping) & (pl.col("users") >= settings.min_group_size))
        .sort("mean_clv")
    )
    if rows.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    groups = rows["group"].to_list()
    fig = go.Figure([
        go.Bar(y=groups, x=rows["mean_clv"].to_list(), orientation="h", name=label("series_clv", lang)),
        go.Bar(y=groups, x=rows["mean_risk_adjusted_clv"].to_list(), orientation="h",
               name=label("series_risk_adjusted_clv", lang)),
    ])
    base_layout(fig, heading, label("axis_money", lang), "")
    fig.update_layout(barmode="group", height=max(FIGURE_HEIGHT, 100 + 44 * rows.height), margin={"l": 300})
    fig.update_xaxes(**money_axis(settings.currency, rows["mean_clv"].abs().max()))
    return Section(heading, figure=fig)


def model_table_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("model_table", lang)
    reason = unavailable_reason(marts, "clv_model", ["model", "parameter", "value", "log_likelihood", "customers"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    rows = [
        (model, parameter, f"{value:.4g}", "" if ll is None or ll != ll else f"{ll:,.2f}", f"{customers:,}")
        for model, parameter, value, ll, customers in marts["clv_model"]
        .select("model", "parameter", "value", "log_likelihood", "customers").iter_rows()
    ]
    headers = [label(k, lang) for k in ("col_model", "col_parameter", "col_value", "col_log_likelihood", "col_customers")]
    return Section(heading, body_html=table_html(headers, rows, [False, False, True, True, True]))


def revenue_retention_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("chart_revenue_retention", lang)
    columns = ["cohort_basis", "cohort", "period", "users", "revenue_retention"]
    reason = unavailable_reason(marts, "cohort_retention", columns, lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    rows = marts["cohort_retention"].filter(
        (pl.col("cohort_basis") == "first_transaction") & (pl.col("users") >= settings.min_group_size))
    if rows.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    grid = rows.sort("period").pivot(on="period", index="cohort", values="revenue_retention").sort("cohort")
    periods = [c for c in grid.columns if c != "cohort"]
    fig = go.Figure(go.Heatmap(
        z=grid.select(periods).to_numpy(), x=[int(p) for p in periods], y=grid["cohort"].to_list(),
        colorscale="Greens", texttemplate="%{z:.0%}", hovertemplate="%{y}<br>%{x}: %{z:.1%}<extra></extra>",
        colorbar={"title": {"text": label("revenue_retention", lang)}, "tickformat": ".0%"},
    ))
    base_layout(fig, heading, label("axis_period", lang), label("axis_cohort", lang))
    fig.update_xaxes(dtick=1)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(height=max(FIGURE_HEIGHT, 120 + 26 * grid.height))
    return Section(heading, figure=fig)


def build_sections(marts: Marts, settings: DashboardSettings) -> list[Section]:
    return [
        tracking_section(marts, settings),
        by_frequency_section(marts, settings),
        value_by_group_section(marts, settings, "acquisition_channel", "chart_value_by_channel"),
        value_by_group_section(marts, settings, "persona_name", "chart_value_by_persona"),
        revenue_retention_section(marts, settings),
        model_table_section(marts, settings),
    ]
