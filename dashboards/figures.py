"""Plotly figure builders; each takes mart rows already cleared for display and returns a Figure."""

from __future__ import annotations

import math
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboards.formatting import money_axis
from dashboards.labels import LIFECYCLE_STAGES, label, value_label
from dashboards.page_settings import DashboardSettings

# System fonts only: pages must render offline, so no web fonts are fetched.
FONT_FAMILY = (
    "system-ui, -apple-system, 'Segoe UI', 'PingFang SC', 'Noto Sans CJK SC', "
    "'Microsoft YaHei', Roboto, 'Helvetica Neue', Arial, sans-serif"
)
FIGURE_HEIGHT = 400
PALETTE = ("#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2")


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


def date_axis(fig: go.Figure) -> None:
    # Numeric dates avoid English month names, which plotly.js would show without a zh locale bundle.
    fig.update_xaxes(tickformat="%Y-%m-%d", hoverformat="%Y-%m-%d")


def acquisition_activity_figure(kpi_daily: pl.DataFrame, settings: DashboardSettings) -> go.Figure:
    """Lines of new, active and transacting users per day."""
    lang = settings.language
    daily = kpi_daily.sort("date")
    fig = go.Figure(
        [
            go.Scatter(
                x=daily["date"].to_list(),
                y=daily[column].to_list(),
                mode="lines",
                name=label(f"series_{column}", lang),
            )
            for column in ("new_users", "active_users", "transacting_users")
        ]
    )
    base_layout(fig, label("chart_acquisition", lang), label("axis_date", lang), label("axis_users", lang))
    date_axis(fig)
    fig.update_yaxes(tickformat=",", rangemode="tozero")
    return fig


def money_timeseries_figure(kpi_daily: pl.DataFrame, settings: DashboardSettings) -> go.Figure:
    """Transaction amount (left axis) and revenue (right axis) per day, in the data's currency."""
    lang = settings.language
    daily = kpi_daily.sort("date")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=daily["date"].to_list(),
            y=daily["txn_amount"].to_list(),
            mode="lines",
            name=label("series_txn_amount", lang),
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=daily["date"].to_list(),
            y=daily["revenue"].to_list(),
            mode="lines",
            name=label("series_revenue", lang),
        ),
        secondary_y=True,
    )
    base_layout(fig, label("chart_money", lang), label("axis_date", lang), "")
    date_axis(fig)
    fig.update_layout(margin={"r": 80})
    fig.update_yaxes(
        title_text=label("axis_amount", lang),
        rangemode="tozero",
        secondary_y=False,
        **money_axis(settings.currency, daily["txn_amount"].abs().max()),
    )
    fig.update_yaxes(
        title_text=label("axis_revenue", lang),
        rangemode="tozero",
        showgrid=False,
        # Own round ticks; syncing to the left axis grid gives values like ¥4,524.28.
        tickmode="auto",
        secondary_y=True,
        **money_axis(settings.currency, daily["revenue"].abs().max()),
    )
    return fig


def cohort_retention_figure(cohort_retention: pl.DataFrame, settings: DashboardSettings) -> go.Figure:
    """Heatmap of retention rate by cohort (rows) and period (columns)."""
    lang = settings.language
    grid = (
        cohort_retention.select("cohort", "period", "retention_rate")
        .sort("period")
        .pivot(on="period", index="cohort", values="retention_rate", aggregate_function="first")
        .sort("cohort")
    )
    periods = [column for column in grid.columns if column != "cohort"]
    sizes = cohort_retention.group_by("cohort").agg(pl.col("users").max()).sort("cohort")
    cohort_labels = [
        f"{cohort} (n={size:,})" for cohort, size in zip(sizes["cohort"], sizes["users"], strict=True)
    ]
    rates = grid.select(periods).to_numpy()
    fig = go.Figure(
        go.Heatmap(
            z=rates,
            x=[int(period) for period in periods],
            y=cohort_labels,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            texttemplate="%{z:.0%}",
            colorbar={"title": {"text": label("retention_rate", lang)}, "tickformat": ".0%"},
            hovertemplate="%{y}<br>%{x}: %{z:.1%}<extra></extra>",
        )
    )
    base_layout(fig, label("chart_cohort", lang), label("axis_period", lang), label("axis_cohort", lang))
    fig.update_xaxes(dtick=1, side="bottom")
    # Oldest cohort on top, as retention tables are usually read.
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(height=max(FIGURE_HEIGHT, 120 + 26 * len(cohort_labels)))
    return fig


def channel_roi_figure(
    channel_roi: pl.DataFrame, settings: DashboardSettings, attribution_model: str
) -> go.Figure:
    """Grouped bars of spend and attributed revenue per channel, labelled with ROAS."""
    lang = settings.language
    rows = channel_roi.sort("revenue", descending=True, nulls_last=True)
    channels = rows["channel"].to_list()
    # ROAS is undefined (null, NaN or infinite) for channels without spend; leave those bars unlabelled.
    roas_text = [
        f"{label('roas', lang)} {roas:.2f}" if roas is not None and math.isfinite(roas) else ""
        for roas in rows["roas"].cast(pl.Float64).to_list()
    ]
    fig = go.Figure(
        [
            go.Bar(x=channels, y=rows["spend"].to_list(), name=label("series_spend", lang)),
            go.Bar(
                x=channels,
                y=rows["revenue"].to_list(),
                name=label("series_attributed_revenue", lang),
                text=roas_text,
                textposition="outside",
                cliponaxis=False,
            ),
        ]
    )
    model_name = value_label("model", attribution_model, lang)
    base_layout(
        fig,
        label("chart_channel_roi", lang, model=model_name),
        label("axis_channel", lang),
        label("axis_money", lang),
    )
    fig.update_layout(barmode="group")
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
            marker_color=PALETTE[0],
        )
    )
    base_layout(fig, label("chart_lifecycle", lang), label("axis_stage", lang), label("axis_users", lang))
    fig.update_yaxes(tickformat=",", rangemode="tozero")
    return fig


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
    has_description = "description" in rows.columns
    fig = go.Figure(
        go.Bar(
            x=users,
            y=rows["persona_name"].cast(pl.String).to_list(),
            orientation="h",
            text=bar_text,
            textposition="outside",
            cliponaxis=False,
            marker_color=PALETTE[2],
            customdata=rows["description"].to_list() if has_description else None,
            hovertemplate="%{y}: %{x:,}" + ("<br>%{customdata}" if has_description else "") + "<extra></extra>",
        )
    )
    base_layout(fig, label("chart_persona", lang), label("axis_users", lang), label("axis_persona", lang))
    fig.update_xaxes(tickformat=",", rangemode="tozero")
    fig.update_yaxes(type="category", automargin=True)
    # Room on the right for the count and share printed past the longest bar.
    fig.update_layout(height=max(FIGURE_HEIGHT, 120 + 36 * rows.height), margin={"r": 110})
    return fig


__all__ = [
    "acquisition_activity_figure",
    "channel_roi_figure",
    "cohort_retention_figure",
    "lifecycle_stage_figure",
    "money_timeseries_figure",
    "persona_size_figure",
]
