"""Channel page: attribution models side by side, ROI, payback curves, the quality of acquired users, and
return and payback per acquisition cohort."""

from __future__ import annotations

import math
from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from dashboards.availability import unavailable_reason
from dashboards.figures import FIGURE_HEIGHT, base_layout
from dashboards.formatting import format_money, format_ratio
from dashboards.html import Section, table_html
from dashboards.labels import label, value_label
from dashboards.privacy import all_suppressed_reason, hidden_note
from dashboards.page_settings import DashboardSettings

SLUG = "channels"
TITLE_KEY = "page_channels"

Marts = Mapping[str, pl.DataFrame | None]

MODEL_ORDER = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "shapley", "markov")
# The model finance signs off on: exact removal effects use every path, converting or not.
ROI_MODEL = "markov"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


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
    channels = rows.group_by("channel").agg(pl.col("conversions").max()).sort("conversions", descending=True)["channel"].to_list()
    present = set(rows["attribution_model"].to_list())
    fig = go.Figure([
        go.Bar(x=channels, y=[by_channel.get(c) for c in channels], name=value_label("model", model, lang))
        for model in (*MODEL_ORDER, *sorted(present - set(MODEL_ORDER))) if model in present
        for by_channel in [dict(rows.filter(pl.col("attribution_model") == model).select("channel", "conversions").iter_rows())]
    ])
    base_layout(fig, heading, label("axis_channel", lang), label("axis_conversions", lang))
    fig.update_layout(barmode="group")
    hidden = roi["channel"].n_unique() - len(channels)
    notes = hidden_note(hidden, "hidden_channels", settings)
    return Section(heading, figure=fig, notes=notes)


def roi_table_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    columns = ["channel", "attribution_model", "spend", "conversions", "revenue", "cac", "roas", "ltv_to_cac"]
    reason = unavailable_reason(marts, "channel_roi", columns, lang)
    models = set() if reason else set(marts["channel_roi"]["attribution_model"].to_list())
    model = ROI_MODEL if ROI_MODEL in models else "last_touch"
    heading = label("roi_table", lang, model=value_label("model", model, lang))
    if reason:
        return Section(heading, unavailable=(reason,))
    rows = marts["channel_roi"].filter(
        (pl.col("attribution_model") == model) & (pl.col("conversions") >= settings.min_group_size)
    ).sort("conversions", descending=True)
    if rows.height == 0:
        return Section(heading, unavailable=(label("reason_no_model", lang, model=model),))
    cells = [
        (channel, format_money(spend, settings.currency), f"{conversions:,.1f}", format_money(revenue, settings.currency),
         format_money(cac, settings.currency), format_ratio(roas), format_ratio(ltv_to_cac))
        for channel, spend, conversions, revenue, cac, roas, ltv_to_cac
        in rows.select("channel", "spend", "conversions", "revenue", "cac", "roas", "ltv_to_cac").iter_rows()
    ]
    headers = [label(k, lang) for k in ("axis_channel", "series_spend", "axis_conversions", "series_attributed_revenue",
                                        "kpi_cac", "roas", "kpi_ltv_to_cac")]
    return Section(heading, body_html=table_html(headers, cells, [False] + [True] * 6))


def payback_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("chart_payback", lang)
    reason = unavailable_reason(marts, "channel_payback",
                                ["acquisition_channel", "month", "users", "cumulative_revenue_per_user", "cac"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    curves = marts["channel_payback"].filter(
        pl.col("cac").is_not_null() & (pl.col("cac") > 0) & (pl.col("users") >= settings.min_group_size)
    ).with_columns((pl.col("cumulative_revenue_per_user") / pl.col("cac")).alias("paid_back"))
    if curves.height == 0:
        return Section(heading, unavailable=(label("reason_no_spend", lang),))
    fig = go.Figure([
        go.Scatter(x=rows["month"].to_list(), y=rows["paid_back"].to_list(), mode="lines+markers", name=channel)
        for channel in sorted(curves["acquisition_channel"].unique().to_list())
        for rows in [curves.filter(pl.col("acquisition_channel") == channel).sort("month")]
    ])
    fig.add_hline(y=1.0, line_dash="dash", line_color="#6b7280", annotation_text=label("paid_back", lang))
    base_layout(fig, heading, label("axis_months_since_signup", lang), label("axis_paid_back", lang))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(dtick=1)
    return Section(heading, figure=fig)


def quality_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("quality_table", lang)
    columns = ["acquisition_channel", "cohort", "users", "kyc_pass_rate", "first_txn_rate", "default_rate", "cac",
               "mean_clv", "mean_risk_adjusted_clv", "ltv_to_cac", "risk_adjusted_roi", "payback_months"]
    reason = unavailable_reason(marts, "channel_quality", columns, lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    rows = marts["channel_quality"].filter(
        (pl.col("cohort") == "all") & (pl.col("users") >= settings.min_group_size)).sort("mean_risk_adjusted_clv", descending=True)
    if rows.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    money = settings.currency
    cells = [
        (r["acquisition_channel"], f"{r['users']:,}", _percent(r["kyc_pass_rate"]), _percent(r["first_txn_rate"]),
         _percent(r["default_rate"]), format_money(r["cac"], money), format_money(r["mean_clv"], money),
         format_money(r["mean_risk_adjusted_clv"], money), format_ratio(r["ltv_to_cac"]),
         _percent(r["risk_adjusted_roi"]), "—" if r["payback_months"] is None else str(r["payback_months"]))
        for r in rows.iter_rows(named=True)
    ]
    headers = [label(k, lang) for k in (
        "axis_channel", "col_users", "col_kyc_pass", "col_first_txn", "col_default", "kpi_cac", "series_clv",
        "series_risk_adjusted_clv", "kpi_ltv_to_cac", "col_risk_adjusted_roi", "col_payback")]
    return Section(heading, body_html=table_html(headers, cells, [False] + [True] * 10))


def _cohort_model(marts: Marts, mart: str) -> str:
    """The model the ROI table shows, so the cohort view reads the same credit."""
    frame = marts.get(mart)
    models = set() if frame is None or "attribution_model" not in frame.columns else set(frame["attribution_model"])
    return ROI_MODEL if ROI_MODEL in models else "last_touch"


def cohort_roas_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    model = _cohort_model(marts, "channel_cohort_roi")
    heading = label("chart_cohort_roas", lang, model=value_label("model", model, lang))
    reason = unavailable_reason(marts, "channel_cohort_roi",
                                ["channel", "cohort", "attribution_model", "spend", "conversions", "cac", "roas"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    paid = marts["channel_cohort_roi"].filter((pl.col("attribution_model") == model) & (pl.col("spend") > 0))
    if paid.height == 0:
        return Section(heading, unavailable=(label("reason_no_spend", lang),))
    # A cell is shown only when the model credits it with at least the minimum group size of conversions; a
    # channel without any such cell is left out altogether, so its name never reaches the page.
    shown = paid.filter(pl.col("conversions") >= settings.min_group_size)
    if shown.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    channels = shown.group_by("channel").agg(pl.col("conversions").sum()).sort(
        "conversions", "channel", descending=[True, False])["channel"].to_list()
    cohorts = sorted(paid.filter(pl.col("channel").is_in(channels))["cohort"].unique().to_list())
    cells = {(r["channel"], r["cohort"]): r for r in shown.iter_rows(named=True)}
    z = [[cells[(c, m)]["roas"] if (c, m) in cells else None for m in cohorts] for c in channels]
    text = [[f"{format_ratio(cells[(c, m)]['roas'])}<br>{format_money(cells[(c, m)]['cac'], settings.currency)}"
             if (c, m) in cells else "" for m in cohorts] for c in channels]
    fig = go.Figure(go.Heatmap(
        z=z, x=cohorts, y=channels, text=text, texttemplate="%{text}", colorscale="RdYlGn", zmid=1.0,
        colorbar={"title": {"text": label("roas", lang)}, "ticksuffix": "×"},
        hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>", hoverongaps=False,
    ))
    base_layout(fig, heading, label("axis_acquisition_month", lang), label("axis_channel", lang))
    fig.update_xaxes(type="category", side="bottom")
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_layout(height=max(FIGURE_HEIGHT, 140 + 48 * len(channels)))
    notes = hidden_note(paid.height - shown.height, "hidden_cells", settings)
    return Section(heading, figure=fig, notes=notes)


def cohort_payback_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    model = _cohort_model(marts, "channel_cohort_payback")
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
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=channels, horizontal_spacing=0.06,
                        vertical_spacing=0.5 / rows if rows > 1 else 0.1)
    in_legend: set[str] = set()
    for (channel, cohort), line in curves.sort("channel", "cohort", "month").group_by(
            ["channel", "cohort"], maintain_order=True):
        index = channels.index(channel)
        fig.add_trace(go.Scatter(
            x=line["month"].to_list(), y=line["recovered"].to_list(), mode="lines+markers", name=cohort,
            legendgroup=cohort, showlegend=cohort not in in_legend, line={"color": color[cohort]},
            hovertemplate=f"{channel} · {cohort}<br>%{{x}}: %{{y:.0%}}<extra></extra>",
        ), row=index // columns + 1, col=index % columns + 1)
        in_legend.add(cohort)
    base_layout(fig, heading, "", "")
    # Axis titles once: months along the bottom row, the share recovered down the first column.
    fig.update_xaxes(title_text=label("axis_months_since_acquisition", lang), row=rows)
    fig.update_yaxes(title_text=label("axis_paid_back", lang), col=1)
    fig.add_hline(y=1.0, line_dash="dash", line_color="#6b7280", row="all", col="all")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(dtick=1)
    fig.update_layout(height=max(FIGURE_HEIGHT, 90 + 300 * rows), margin={"t": 90, "r": 110},
                      legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1.0, "yanchor": "top"})
    hidden = cohorts.height - large.height
    notes = hidden_note(hidden, "hidden_cohorts", settings)
    return Section(heading, figure=fig, notes=notes)


def build_sections(marts: Marts, settings: DashboardSettings) -> list[Section]:
    return [
        models_section(marts, settings),
        roi_table_section(marts, settings),
        payback_section(marts, settings),
        quality_section(marts, settings),
        cohort_roas_section(marts, settings),
        cohort_payback_section(marts, settings),
    ]
