"""Plotly figure builders; each takes mart rows already cleared for display and returns a Figure.

Conventions every page follows:
- a missing value is drawn as a gap (a null in the trace, never a 0) or as a grey cell saying "no data";
- a cell hidden for privacy is drawn as a grey cell saying "< n", so it never looks like a 0;
- time axes run over the window the data covers (`DashboardSettings.data_from` to `as_of`);
- every trace carries the raw values it was drawn from in `customdata` where the text shows rounded ones.
"""

from __future__ import annotations

import math
from datetime import date

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboards.formatting import money_axis
from dashboards.html import FONT_STACK
from dashboards.labels import LIFECYCLE_STAGES, channel_label, label, value_label
from dashboards.metric_text import format_value, metric_header, metric_name
from dashboards.page_settings import DashboardSettings

# System fonts only: pages must render offline, so no web fonts are fetched.
FONT_FAMILY = FONT_STACK
FIGURE_HEIGHT = 400
# Eight distinct colours, so the seven attribution models never share one.
PALETTE = ("#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#a16207", "#db2777")
MODEL_COLORS = {
    "first_touch": "#2563eb", "last_touch": "#f97316", "linear": "#16a34a", "time_decay": "#9333ea",
    "position_based": "#dc2626", "shapley": "#0891b2", "markov": "#a16207",
}
# The attribution model every page reports channel return under (the channel page shows all side by side):
# exact removal effects use every journey, converting or not. Pages fall back to last touch without it.
REPORTED_MODEL = "markov"
FALLBACK_MODEL = "last_touch"
# Grey cells: unknown (no data) and hidden (smaller than the minimum group size).
MARKED_CELL_COLOR = "#d1d5db"
LABEL_FONT_SIZE = 12


def base_layout(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        template="plotly_white",
        font={"family": FONT_FAMILY, "size": 13},
        height=FIGURE_HEIGHT,
        margin={"l": 70, "r": 30, "t": 60, "b": 60},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        colorway=list(PALETTE),
    )
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def date_axis(fig: go.Figure, settings: DashboardSettings | None = None) -> None:
    # Numeric dates avoid English month names, which plotly.js would show without a zh locale bundle.
    fig.update_xaxes(tickformat="%Y-%m-%d", hoverformat="%Y-%m-%d")
    if settings is not None and settings.data_from is not None and settings.as_of is not None:
        fig.update_xaxes(range=[settings.data_from.isoformat(), settings.as_of.isoformat()])


def covered_days(kpi_daily: pl.DataFrame, settings: DashboardSettings) -> pl.DataFrame:
    """The daily rows inside the window the data covers."""
    daily = kpi_daily.sort("date")
    if settings.data_from is not None:
        daily = daily.filter(pl.col("date") >= settings.data_from)
    return daily


def marked_cells_trace(x: list, y: list, marks: list[list[str | None]], hover: str) -> go.Heatmap:
    """A grey heatmap layer with a word in the cells that hold one (e.g. "no data", "< 10"), empty elsewhere."""
    return go.Heatmap(
        z=[[1.0 if mark else None for mark in row] for row in marks], x=x, y=y,
        text=[[mark or "" for mark in row] for row in marks], texttemplate="%{text}",
        colorscale=[[0, MARKED_CELL_COLOR], [1, MARKED_CELL_COLOR]], showscale=False, hoverongaps=False,
        hovertemplate=f"%{{y}} · %{{x}}<br>{hover}<extra></extra>", name=hover,
        textfont={"color": "#374151", "size": 11},
    )


def acquisition_activity_figure(kpi_daily: pl.DataFrame, settings: DashboardSettings) -> go.Figure:
    """Lines of sign-ups, active and transacting users per day; unknown days are gaps."""
    lang = settings.language
    daily = covered_days(kpi_daily, settings)
    fig = go.Figure([
        go.Scatter(x=daily["date"].to_list(), y=daily[column].to_list(), mode="lines",
                   name=metric_name(f"daily_{column}", lang), connectgaps=False)
        for column in ("new_users", "active_users", "transacting_users")
    ])
    base_layout(fig, label("chart_acquisition", lang), label("axis_date", lang), label("axis_users", lang))
    date_axis(fig, settings)
    fig.update_yaxes(tickformat=",", rangemode="tozero")
    return fig


def money_timeseries_figure(kpi_daily: pl.DataFrame, settings: DashboardSettings) -> go.Figure:
    """Transaction amount (left axis) and revenue (right axis) per day, in the data's currency."""
    lang = settings.language
    daily = covered_days(kpi_daily, settings)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for column, secondary in (("txn_amount", False), ("revenue", True)):
        fig.add_trace(go.Scatter(x=daily["date"].to_list(), y=daily[column].to_list(), mode="lines",
                                 name=metric_name(f"daily_{column}", lang), connectgaps=False),
                      secondary_y=secondary)
    base_layout(fig, label("chart_money", lang), label("axis_date", lang), "")
    date_axis(fig, settings)
    fig.update_layout(margin={"r": 80})
    fig.update_yaxes(title_text=metric_header("daily_txn_amount", settings), rangemode="tozero", secondary_y=False,
                     **money_axis(settings.currency, daily["txn_amount"].abs().max()))
    fig.update_yaxes(
        title_text=metric_header("daily_revenue", settings), rangemode="tozero", showgrid=False,
        # Own round ticks; syncing to the left axis grid gives values like ¥4,524.28.
        tickmode="auto", secondary_y=True, **money_axis(settings.currency, daily["revenue"].abs().max()),
    )
    return fig


def cohort_retention_figure(cohort_retention: pl.DataFrame, settings: DashboardSettings,
                            value_column: str = "retention_rate", metric_id: str = "retention_rate",
                            title_key: str = "chart_cohort", colorscale: str = "Blues") -> go.Figure:
    """Heatmap of a rate by cohort (rows) and months since (columns).

    A cell the data cannot know (before the purchase history) is a grey "no data" cell, never 0%; a month still
    in progress on the as-of date is marked with an asterisk.
    """
    lang = settings.language
    rows = cohort_retention.sort("cohort", "period")
    cohorts = rows["cohort"].unique(maintain_order=True).to_list()
    periods = sorted(rows["period"].unique().to_list())
    cells = {(r["cohort"], r["period"]): r for r in rows.iter_rows(named=True)}
    sizes = dict(rows.group_by("cohort").agg(pl.col("users").max()).iter_rows())
    y = [f"{cohort} (n={sizes[cohort]:,})" for cohort in cohorts]

    def value(cohort: str, period: int) -> float | None:
        row = cells.get((cohort, period))
        return None if row is None else row[value_column]

    z = [[value(c, p) for p in periods] for c in cohorts]
    text = [["" if value(c, p) is None else
             f"{value(c, p):.0%}" + ("" if cells[(c, p)].get("period_complete", True) else "*")
             for p in periods] for c in cohorts]
    unknown = [[label("no_data", lang) if (c, p) in cells and value(c, p) is None else None for p in periods]
               for c in cohorts]
    fig = go.Figure(go.Heatmap(
        z=z, x=periods, y=y, text=text, texttemplate="%{text}", colorscale=colorscale, zmin=0,
        zmax=1 if value_column == "retention_rate" else None, hoverongaps=False,
        colorbar={"title": {"text": metric_name(metric_id, lang)}, "tickformat": ".0%"},
        hovertemplate="%{y}<br>%{x}: %{z:.1%}<extra></extra>", customdata=z, name=metric_name(metric_id, lang),
    ))
    if any(mark for row in unknown for mark in row):
        fig.add_trace(marked_cells_trace(periods, y, unknown, label("no_data", lang)))
    base_layout(fig, label(title_key, lang), label("axis_period", lang), label("axis_cohort", lang))
    fig.update_xaxes(dtick=1, side="bottom")
    # Oldest cohort on top, as retention tables are usually read.
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(height=max(FIGURE_HEIGHT, 120 + 26 * len(y)))
    return fig


def channel_roi_figure(channel_roi: pl.DataFrame, settings: DashboardSettings, attribution_model: str) -> go.Figure:
    """Grouped bars of spend and first-purchase revenue per channel, labelled with ROAS."""
    lang = settings.language
    rows = channel_roi.sort("revenue", descending=True, nulls_last=True)
    channels = rows["channel"].to_list()
    names = [channel_label(channel, lang) for channel in channels]
    roas = [value if value is not None and math.isfinite(value) else None
            for value in rows["roas"].cast(pl.Float64).to_list()]
    # ROAS is undefined for channels without spend; leave those bars unlabelled.
    roas_text = [f"ROAS {format_value('roas', value, settings)}" if value is not None else "" for value in roas]
    fig = go.Figure([
        go.Bar(x=names, y=rows["spend"].to_list(), name=metric_name("channel_spend", lang),
               customdata=channels),
        go.Bar(x=names, y=rows["revenue"].to_list(), name=metric_name("attributed_revenue", lang),
               text=roas_text, textposition="outside", cliponaxis=False, constraintext="none",
               textfont={"size": LABEL_FONT_SIZE}, customdata=[[c, r] for c, r in zip(channels, roas, strict=True)]),
    ])
    model_name = value_label("model", attribution_model, lang)
    base_layout(fig, label("chart_channel_roi", lang, model=model_name), label("axis_channel", lang),
                label("axis_money", lang))
    fig.update_layout(barmode="group", uniformtext={"minsize": LABEL_FONT_SIZE, "mode": "show"})
    largest = rows.select(pl.max_horizontal(pl.col("spend", "revenue").abs().max())).item()
    fig.update_yaxes(rangemode="tozero", **money_axis(settings.currency, largest))
    return fig


def lifecycle_stage_figure(stage_counts: pl.DataFrame, settings: DashboardSettings) -> go.Figure:
    """Bars of users per lifecycle stage (columns ``lifecycle_stage``, ``users``)."""
    lang = settings.language
    order = {stage: position for position, stage in enumerate(LIFECYCLE_STAGES)}
    rows = stage_counts.with_columns(
        pl.col("lifecycle_stage").replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("__order")
    ).sort("__order", "lifecycle_stage")
    fig = go.Figure(
        go.Bar(
            x=[value_label("stage", stage, lang) for stage in rows["lifecycle_stage"].to_list()],
            y=rows["users"].to_list(),
            text=[f"{users:,}" for users in rows["users"].to_list()],
            textposition="outside",
            cliponaxis=False,
            constraintext="none",
            marker_color=PALETTE[0],
            customdata=rows["lifecycle_stage"].to_list(),
        )
    )
    base_layout(fig, label("chart_lifecycle", lang), label("axis_stage", lang), label("axis_users", lang))
    fig.update_yaxes(tickformat=",", rangemode="tozero")
    return fig


def persona_names(persona: pl.DataFrame, language: str) -> pl.Series:
    """Each persona's name in the reader's language (the English name when no Chinese one is stored)."""
    if language == "zh" and "persona_name_zh" in persona.columns:
        return persona.select(pl.coalesce("persona_name_zh", "persona_name")).to_series()
    return persona["persona_name"].cast(pl.String)


def persona_descriptions(persona: pl.DataFrame, language: str) -> pl.Series:
    if language == "zh" and "description_zh" in persona.columns:
        return persona.select(pl.coalesce("description_zh", "description")).to_series()
    return persona["description"] if "description" in persona.columns else pl.Series([None] * persona.height)


def persona_size_figure(persona: pl.DataFrame, settings: DashboardSettings) -> go.Figure:
    """Horizontal bars of users per persona, labelled with their share."""
    lang = settings.language
    rows = persona.sort("users")
    users = rows["users"].to_list()
    shares = rows["share"].to_list() if "share" in rows.columns else [None] * rows.height
    bar_text = [
        f"{count:,}" + ("" if share is None else f" ({share:.1%})")
        for count, share in zip(users, shares, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=users,
            y=persona_names(rows, lang).to_list(),
            orientation="h",
            text=bar_text,
            textposition="outside",
            cliponaxis=False,
            constraintext="none",
            marker_color=PALETTE[2],
            customdata=persona_descriptions(rows, lang).to_list(),
            hovertemplate="%{y}: %{x:,}<br>%{customdata}<extra></extra>",
        )
    )
    base_layout(fig, label("chart_persona", lang), label("axis_users", lang), label("axis_persona", lang))
    fig.update_xaxes(tickformat=",", rangemode="tozero")
    fig.update_yaxes(type="category", automargin=True)
    # Room on the right for the count and share printed past the longest bar.
    fig.update_layout(height=max(FIGURE_HEIGHT, 120 + 36 * rows.height), margin={"r": 110})
    return fig


def reported_model(frame: pl.DataFrame | None) -> str:
    """The model pages read from a per-model mart: Markov when present, else last touch, else the first there."""
    if frame is None or "attribution_model" not in frame.columns or frame.height == 0:
        return REPORTED_MODEL
    models = set(frame["attribution_model"].drop_nulls().to_list())
    for model in (REPORTED_MODEL, FALLBACK_MODEL):
        if model in models:
            return model
    return sorted(models)[0]


def iso(day: date | None) -> str:
    return "?" if day is None else day.isoformat()


__all__ = [
    "acquisition_activity_figure",
    "channel_roi_figure",
    "cohort_retention_figure",
    "lifecycle_stage_figure",
    "marked_cells_trace",
    "money_timeseries_figure",
    "persona_size_figure",
]
