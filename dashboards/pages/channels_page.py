"""Channel page: attribution models side by side, return per channel, payback per sign-up, the quality of acquired
users, and return and payback per acquisition cohort.

Two views of return sit on this page and legitimately differ; each section says which it shows:
- ROAS (the ROI table, the cohort heatmap, the executive page): revenue of the first purchase, the one that
  acquired the customer, over spend;
- recovery (the payback curves): cumulative revenue of every purchase the customers made since, over spend.
And two costs: CAC divides spend by the customers the attribution model credits to the channel; spend per sign-up
(the quality table and the first payback chart) divides it by every user who signed up through the channel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from dashboards.availability import unavailable_reason
from dashboards.figures import (
    FIGURE_HEIGHT,
    LABEL_FONT_SIZE,
    MODEL_COLORS,
    PALETTE,
    base_layout,
    marked_cells_trace,
    reported_model,
)
from dashboards.formatting import format_money, format_ratio
from dashboards.html import Section, table_html
from dashboards.labels import channel_label, label, value_label
from dashboards.metric_text import cell, definitions_html, metric_header, metric_name, window_text
from dashboards.page_settings import DashboardSettings
from dashboards.privacy import all_suppressed_reason, hidden_note

SLUG = "channels"
TITLE_KEY = "page_channels"

Marts = Mapping[str, pl.DataFrame | None]

MODEL_ORDER = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "shapley", "markov")


def models_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("chart_models", lang)
    reason = unavailable_reason(marts, "channel_roi", ["channel", "attribution_model", "conversions"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    roi = marts["channel_roi"]
    # A channel is shown only when every model credits it with at least the minimum group size.
    large = roi.group_by("channel").agg(pl.col("conversions").min()).filter(
        pl.col("conversions") >= settings.min_group_size)["channel"]
    rows = roi.filter(pl.col("channel").is_in(large.implode()))
    if rows.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    channels = rows.group_by("channel").agg(pl.col("conversions").max()).sort(
        "conversions", "channel", descending=[True, False])["channel"].to_list()
    names = [channel_label(c, lang) for c in channels]
    present = set(rows["attribution_model"].to_list())
    fig = go.Figure([
        go.Bar(x=names, y=[by_channel.get(c) for c in channels], name=value_label("model", model, lang),
               marker_color=MODEL_COLORS.get(model, PALETTE[index % len(PALETTE)]),
               customdata=[[c, model] for c in channels])
        for index, model in enumerate((*MODEL_ORDER, *sorted(present - set(MODEL_ORDER)))) if model in present
        for by_channel in [dict(rows.filter(pl.col("attribution_model") == model).select("channel", "conversions")
                                .iter_rows())]
    ])
    base_layout(fig, heading, label("axis_channel", lang), metric_header("attributed_conversions", settings))
    fig.update_layout(barmode="group")
    hidden = roi["channel"].n_unique() - len(channels)
    notes = (window_text("attributed_conversions", settings), *hidden_note(hidden, "hidden_channels", settings))
    return Section(heading, figure=fig, notes=notes)


ROI_METRICS = ("channel_spend", "attributed_conversions", "attributed_revenue", "channel_cac", "roas", "channel_ltv",
               "channel_ltv_to_cac")
ROI_COLUMNS = ("spend", "conversions", "revenue", "cac", "roas", "ltv", "ltv_to_cac")


def roi_table_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    reason = unavailable_reason(marts, "channel_roi", ["channel", "attribution_model", *ROI_COLUMNS], lang)
    model = reported_model(None if reason else marts["channel_roi"])
    heading = label("roi_table", lang, model=value_label("model", model, lang))
    if reason:
        return Section(heading, unavailable=(reason,))
    rows = marts["channel_roi"].filter(
        (pl.col("attribution_model") == model) & (pl.col("conversions") >= settings.min_group_size)
    ).sort("conversions", descending=True)
    if rows.height == 0:
        return Section(heading, unavailable=(label("reason_no_model", lang, model=model),))
    cells = [
        ((channel_label(row["channel"], lang), f' data-channel="{row["channel"]}"'),
         *(cell(metric_id, row[column], settings) for metric_id, column in zip(ROI_METRICS, ROI_COLUMNS, strict=True)))
        for row in rows.iter_rows(named=True)
    ]
    headers = [label("axis_channel", lang), *(metric_header(m, settings) for m in ROI_METRICS)]
    notes = (window_text("roas", settings), window_text("channel_ltv", settings))
    body = table_html(headers, cells, [False] + [True] * len(ROI_METRICS)) + definitions_html(
        ROI_METRICS, settings, label("definitions", lang))
    return Section(heading, body_html=body, notes=notes,
                   explain=(label("explain_roas_vs_ltv", lang, horizon=settings.clv_horizon_days),))


def payback_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("chart_payback", lang)
    reason = unavailable_reason(marts, "channel_payback",
                                ["acquisition_channel", "month", "users", "cumulative_revenue_per_user",
                                 "spend_per_signup", "recovered"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    curves = marts["channel_payback"].filter(
        pl.col("recovered").is_not_null() & (pl.col("users") >= settings.min_group_size))
    if curves.height == 0:
        return Section(heading, unavailable=(label("reason_no_spend", lang),))
    channels = sorted(curves["acquisition_channel"].unique().to_list())
    fig = go.Figure([
        go.Scatter(x=rows["month"].to_list(), y=rows["recovered"].to_list(), mode="lines+markers",
                   name=channel_label(channel, lang), line={"color": PALETTE[index % len(PALETTE)]},
                   customdata=[[channel, users] for users in rows["users"].to_list()],
                   hovertemplate="%{fullData.name} · %{x}: %{y:.0%} (n=%{customdata[1]:,})<extra></extra>")
        for index, channel in enumerate(channels)
        for rows in [curves.filter(pl.col("acquisition_channel") == channel).sort("month")]
    ])
    fig.add_hline(y=1.0, line_dash="dash", line_color="#6b7280", annotation_text=label("paid_back", lang))
    base_layout(fig, heading, label("axis_months_since_signup", lang), metric_header("signup_recovered", settings))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(dtick=1, range=[-0.2, float(curves["month"].max()) + 0.2])
    return Section(heading, figure=fig, notes=(window_text("signup_recovered", settings),),
                   explain=(label("explain_payback_per_signup", lang),))


QUALITY_METRICS = ("signups", "kyc_pass_rate", "first_txn_rate", "default_rate", "spend_per_signup", "clv_per_signup",
                   "risk_adjusted_clv_per_signup", "clv_to_spend", "risk_adjusted_return", "payback_month")
QUALITY_COLUMNS = ("users", "kyc_pass_rate", "first_txn_rate", "default_rate", "spend_per_signup", "mean_clv",
                   "mean_risk_adjusted_clv", "clv_to_spend", "risk_adjusted_return", "payback_months")


def quality_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("quality_table", lang)
    reason = unavailable_reason(marts, "channel_quality", ["acquisition_channel", "cohort", *QUALITY_COLUMNS], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    rows = marts["channel_quality"].filter(
        (pl.col("cohort") == "all") & (pl.col("users") >= settings.min_group_size)).sort(
        "mean_risk_adjusted_clv", descending=True)
    if rows.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    cells = [
        ((channel_label(row["acquisition_channel"], lang), f' data-channel="{row["acquisition_channel"]}"'),
         *(cell(metric_id, row[column], settings)
           for metric_id, column in zip(QUALITY_METRICS, QUALITY_COLUMNS, strict=True)))
        for row in rows.iter_rows(named=True)
    ]
    headers = [label("axis_channel", lang), *(metric_header(m, settings) for m in QUALITY_METRICS)]
    notes = (window_text("signups", settings), window_text("clv_per_signup", settings))
    body = table_html(headers, cells, [False] + [True] * len(QUALITY_METRICS)) + definitions_html(
        QUALITY_METRICS, settings, label("definitions", lang))
    return Section(heading, body_html=body, notes=notes, explain=(label("explain_cac_vs_spend_per_signup", lang),))


def cohort_roas_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    model = reported_model(marts.get("channel_cohort_roi"))
    heading = label("chart_cohort_roas", lang, model=value_label("model", model, lang))
    reason = unavailable_reason(marts, "channel_cohort_roi",
                                ["channel", "cohort", "attribution_model", "spend", "conversions", "cac", "roas"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    paid = marts["channel_cohort_roi"].filter((pl.col("attribution_model") == model) & (pl.col("spend") > 0))
    if paid.height == 0:
        return Section(heading, unavailable=(label("reason_no_spend", lang),))
    # A cell is shown only when the model credits it with at least the minimum group size of conversions; a
    # channel without any such cell is left out altogether, so its name never reaches the page. Hidden cells of
    # the channels shown are grey "< n" cells, never blanks that could read as nothing.
    shown = paid.filter(pl.col("conversions") >= settings.min_group_size)
    if shown.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    channels = shown.group_by("channel").agg(pl.col("conversions").sum()).sort(
        "conversions", "channel", descending=[True, False])["channel"].to_list()
    names = [channel_label(c, lang) for c in channels]
    cohorts = sorted(paid.filter(pl.col("channel").is_in(channels))["cohort"].unique().to_list())
    cells = {(r["channel"], r["cohort"]): r for r in shown.iter_rows(named=True)}
    hidden = {(r["channel"], r["cohort"]) for r in paid.filter(pl.col("conversions") < settings.min_group_size)
              .iter_rows(named=True)}
    z = [[cells[(c, m)]["roas"] if (c, m) in cells else None for m in cohorts] for c in channels]
    text = [[f"{format_ratio(cells[(c, m)]['roas'])}<br>{format_money(cells[(c, m)]['cac'], settings.currency)}"
             if (c, m) in cells else "" for m in cohorts] for c in channels]
    suppressed = label("suppressed_cell", lang, n=settings.min_group_size)
    marks = [[suppressed if (c, m) in hidden else None for m in cohorts] for c in channels]
    fig = go.Figure(go.Heatmap(
        z=z, x=cohorts, y=names, text=text, texttemplate="%{text}", colorscale="RdYlGn", zmid=1.0,
        colorbar={"title": {"text": metric_name("cohort_roas", lang)}, "ticksuffix": "×"},
        hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>", hoverongaps=False,
        textfont={"size": LABEL_FONT_SIZE}, customdata=[[[c, m] for m in cohorts] for c in channels],
        name=metric_name("cohort_roas", lang),
    ))
    if hidden:
        fig.add_trace(marked_cells_trace(cohorts, names, marks, suppressed))
    base_layout(fig, heading, label("axis_acquisition_month", lang), label("axis_channel", lang))
    fig.update_xaxes(type="category", side="bottom")
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_layout(height=max(FIGURE_HEIGHT, 140 + 48 * len(channels)))
    notes = (window_text("cohort_roas", settings), *hidden_note(paid.height - shown.height, "hidden_cells", settings))
    return Section(heading, figure=fig, notes=notes, explain=(label("explain_roas_vs_recovery", lang),))


def cohort_payback_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    model = reported_model(marts.get("channel_cohort_payback"))
    heading = label("chart_cohort_payback", lang, model=value_label("model", model, lang))
    for mart, columns in (("channel_cohort_payback", ["channel", "cohort", "attribution_model", "month", "recovered"]),
                          ("channel_cohort_roi", ["channel", "cohort", "attribution_model", "spend", "conversions"])):
        reason = unavailable_reason(marts, mart, columns, lang)
        if reason:
            return Section(heading, unavailable=(reason,))
    cohorts = marts["channel_cohort_roi"].filter((pl.col("attribution_model") == model) & (pl.col("spend") > 0))
    large = cohorts.filter(pl.col("conversions") >= settings.min_group_size).select("channel", "cohort")
    curves = marts["channel_cohort_payback"].filter(pl.col("attribution_model") == model).join(
        large, on=["channel", "cohort"], how="semi").filter(pl.col("recovered").is_not_null())
    if cohorts.height == 0:
        return Section(heading, unavailable=(label("reason_no_spend", lang),))
    if curves.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    channels = sorted(curves["channel"].unique().to_list())
    months = sorted(curves["cohort"].unique().to_list())
    # Cohorts are ordered in time, so their colours run along one scale, oldest darkest.
    shades = sample_colorscale("Viridis", [0.85 * i / max(1, len(months) - 1) for i in range(len(months))])
    color = dict(zip(months, shades, strict=True))
    columns = min(3, len(channels))
    rows = math.ceil(len(channels) / columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[channel_label(c, lang) for c in channels],
                        horizontal_spacing=0.06, vertical_spacing=0.5 / rows if rows > 1 else 0.1)
    in_legend: set[str] = set()
    for (channel, cohort), line in curves.sort("channel", "cohort", "month").group_by(
            ["channel", "cohort"], maintain_order=True):
        index = channels.index(channel)
        fig.add_trace(go.Scatter(
            x=line["month"].to_list(), y=line["recovered"].to_list(), mode="lines+markers", name=cohort,
            legendgroup=cohort, showlegend=cohort not in in_legend, line={"color": color[cohort]},
            customdata=[[channel, cohort]] * line.height,
            hovertemplate=f"{channel_label(channel, lang)} · {cohort}<br>%{{x}}: %{{y:.0%}}<extra></extra>",
        ), row=index // columns + 1, col=index % columns + 1)
        in_legend.add(cohort)
    base_layout(fig, heading, "", "")
    # Axis titles once: months along the bottom row, the share recovered down the first column.
    fig.update_xaxes(title_text=label("axis_months_since_acquisition", lang), row=rows)
    fig.update_yaxes(title_text=metric_header("cohort_recovered", settings), col=1)
    fig.add_hline(y=1.0, line_dash="dash", line_color="#6b7280", row="all", col="all")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(dtick=1, range=[-0.2, float(curves["month"].max()) + 0.2])
    fig.update_layout(height=max(FIGURE_HEIGHT, 90 + 300 * rows), margin={"t": 90, "r": 110},
                      legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1.0, "yanchor": "top"})
    hidden = cohorts.height - large.height
    notes = (window_text("cohort_recovered", settings), *hidden_note(hidden, "hidden_cohorts", settings))
    return Section(heading, figure=fig, notes=notes, explain=(label("explain_recovery_vs_roas", lang),))


def build_sections(marts: Marts, settings: DashboardSettings) -> list[Section]:
    return [
        models_section(marts, settings),
        roi_table_section(marts, settings),
        payback_section(marts, settings),
        quality_section(marts, settings),
        cohort_roas_section(marts, settings),
        cohort_payback_section(marts, settings),
    ]

