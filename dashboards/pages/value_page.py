"""Lifetime-value page: how far to trust the model (holdout check, with its bias stated), value by channel and
persona over the stated horizon, revenue retention, and the fitted models with the chosen one marked."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl

from dashboards.availability import unavailable_reason
from dashboards.figures import FIGURE_HEIGHT, PALETTE, base_layout, cohort_retention_figure, persona_names
from dashboards.formatting import money_axis
from dashboards.html import Section, table_html
from dashboards.labels import LABELS, channel_label, label, value_label
from dashboards.metric_text import metric_header, metric_name, window_text
from dashboards.page_settings import DashboardSettings
from dashboards.privacy import all_suppressed_reason, hidden_note

SLUG = "value"
TITLE_KEY = "page_value"

Marts = Mapping[str, pl.DataFrame | None]

TRACKING_COLUMNS = ["week", "actual_cumulative", "predicted_cumulative"]
BY_FREQUENCY_COLUMNS = ["frequency_bucket", "users", "actual_mean", "predicted_mean"]
GROUP_COLUMNS = ["grouping", "group", "users", "mean_clv", "mean_risk_adjusted_clv"]
MODEL_NAMES = {"bg_nbd": "BG/NBD", "pareto_nbd": "Pareto/NBD", "mbg_nbd": "MBG/NBD", "gamma_gamma": "Gamma-Gamma"}
PARAMETER_SYMBOLS = {"alpha": "α", "beta": "β"}


def model_name(model: str | None, language: str) -> str:
    """A fitted model as readers know it (BG/NBD, …); the shrunk-mean spend model in words."""
    if model is None:
        return "—"
    return MODEL_NAMES.get(model) or value_label("model", model, language)


def _parameter_name(parameter: str, language: str) -> str:
    key = f"param_{parameter}"
    return label(key, language) if key in LABELS else PARAMETER_SYMBOLS.get(parameter, parameter)


def _plotted_model(rows: pl.DataFrame) -> str | None:
    return rows["model"].drop_nulls()[0] if "model" in rows.columns and rows["model"].drop_nulls().len() else None


def tracking_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    reason = unavailable_reason(marts, "clv_holdout_tracking", TRACKING_COLUMNS, lang)
    rows = None if reason else marts["clv_holdout_tracking"].sort("week")
    model = None if rows is None else _plotted_model(rows)
    heading = label("chart_tracking", lang, model=model_name(model, lang))
    if reason:
        return Section(heading, unavailable=(reason,))
    fig = go.Figure([
        go.Scatter(x=rows["week"].to_list(), y=rows["actual_cumulative"].to_list(), mode="lines+markers",
                   name=label("series_actual", lang), line={"color": PALETTE[0]}),
        go.Scatter(x=rows["week"].to_list(), y=rows["predicted_cumulative"].to_list(), mode="lines+markers",
                   line={"dash": "dash", "color": PALETTE[1]},
                   name=label("series_predicted_by", lang, model=model_name(model, lang))),
    ])
    base_layout(fig, heading, label("axis_holdout_week", lang), metric_header("holdout_cumulative_transactions",
                                                                                settings))
    fig.update_yaxes(tickformat=",", rangemode="tozero")
    fig.update_xaxes(dtick=1)
    explain = ()
    if {"actual_holdout", "predicted_holdout"} <= set(rows.columns):
        actual, predicted = rows["actual_holdout"][-1], rows["predicted_holdout"][-1]
        if actual:
            explain = (label("explain_holdout_bias", lang, model=model_name(model, lang), weeks=rows.height,
                             predicted=f"{predicted:,.0f}", actual=f"{actual:,.0f}",
                             bias=f"{predicted / actual - 1:+.0%}"),)
    return Section(heading, figure=fig, notes=(window_text("holdout_cumulative_transactions", settings),),
                   explain=explain)


def by_frequency_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    reason = unavailable_reason(marts, "clv_holdout_by_frequency", BY_FREQUENCY_COLUMNS, lang)
    model = None if reason else _plotted_model(marts["clv_holdout_by_frequency"])
    heading = label("chart_by_frequency", lang, model=model_name(model, lang))
    if reason:
        return Section(heading, unavailable=(reason,))
    # A bucket of a handful of people would reveal their purchases.
    all_rows = marts["clv_holdout_by_frequency"]
    rows = all_rows.filter(pl.col("users") >= settings.min_group_size)
    if rows.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    buckets = rows["frequency_bucket"].cast(pl.String).to_list()
    bias = [p / a - 1 if a else None for a, p in zip(rows["actual_mean"].to_list(), rows["predicted_mean"].to_list(),
                                                     strict=True)]
    fig = go.Figure([
        go.Bar(x=buckets, y=rows["actual_mean"].to_list(), name=label("series_actual", lang),
               marker_color=PALETTE[0]),
        go.Bar(x=buckets, y=rows["predicted_mean"].to_list(),
               name=label("series_predicted_by", lang, model=model_name(model, lang)), marker_color=PALETTE[1],
               text=["" if b is None else f"{b:+.0%}" for b in bias], textposition="outside", cliponaxis=False,
               constraintext="none", customdata=bias),
    ])
    base_layout(fig, heading, label("axis_frequency", lang), metric_header("holdout_transactions", settings))
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category")
    known = [b for b in bias if b is not None]
    explain = ()
    if known:
        values = {"model": model_name(model, lang), "low": f"{min(known):+.0%}", "high": f"{max(known):+.0%}"}
        if max(known) < 0 or min(known) > 0:
            explain = (label("explain_bucket_bias_one_way", lang,
                             direction=label("direction_fewer" if max(known) < 0 else "direction_more", lang),
                             **values),)
        else:
            explain = (label("explain_bucket_bias", lang, **values),)
    notes = (window_text("holdout_transactions", settings),
             *hidden_note(all_rows.height - rows.height, "hidden_cells", settings))
    return Section(heading, figure=fig, notes=notes, explain=explain)


def value_by_group_section(marts: Marts, settings: DashboardSettings, grouping: str, heading_key: str) -> Section:
    lang = settings.language
    heading = label(heading_key, lang, horizon=settings.clv_horizon_days)
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
    if grouping == "acquisition_channel":
        names = [channel_label(group, lang) for group in groups]
    elif grouping == "persona_name" and marts.get("persona") is not None:
        persona = marts["persona"]
        lookup = dict(zip(persona["persona_name"].to_list(), persona_names(persona, lang).to_list(), strict=True))
        names = [lookup.get(group, group) for group in groups]
    else:
        names = groups
    fig = go.Figure([
        go.Bar(y=names, x=rows["mean_clv"].to_list(), orientation="h", name=metric_name("clv", lang),
               marker_color=PALETTE[0], customdata=groups),
        go.Bar(y=names, x=rows["mean_risk_adjusted_clv"].to_list(), orientation="h",
               name=metric_name("risk_adjusted_clv", lang), marker_color=PALETTE[1], customdata=groups),
    ])
    base_layout(fig, heading, metric_header("clv", settings), "")
    fig.update_layout(barmode="group", height=max(FIGURE_HEIGHT, 100 + 44 * rows.height))
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(**money_axis(settings.currency, rows["mean_clv"].abs().max()))
    return Section(heading, figure=fig, notes=(window_text("clv", settings),),
                   explain=(label("explain_clv_vs_realised", lang, horizon=settings.clv_horizon_days),))


def model_table_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("model_table", lang)
    reason = unavailable_reason(marts, "clv_model", ["model", "parameter", "value", "log_likelihood", "customers"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    models = marts["clv_model"]
    if "chosen" not in models.columns:
        models = models.with_columns(pl.lit(None, dtype=pl.Boolean).alias("chosen"))
    chosen_text = label("chosen_model", lang)
    rows = [
        (model_name(model, lang), _parameter_name(parameter, lang), f"{value:.4g}",
         "" if ll is None or ll != ll else f"{ll:,.2f}", f"{customers:,}",
         (chosen_text, ' data-chosen="true"') if chosen else ("", ""))
        for model, parameter, value, ll, customers, chosen in models.sort(
            pl.col("chosen").fill_null(False), descending=True, maintain_order=True)
        .select("model", "parameter", "value", "log_likelihood", "customers", "chosen").iter_rows()
    ]
    headers = [label(k, lang) for k in ("col_model", "col_parameter", "col_value", "col_log_likelihood",
                                        "col_customers", "col_chosen")]
    return Section(heading, body_html=table_html(headers, rows, [False, False, True, True, True, False]),
                   notes=(label("note_model_choice", lang),))


def revenue_retention_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("chart_revenue_retention", lang)
    columns = ["cohort_basis", "cohort", "period", "users", "revenue_retention"]
    reason = unavailable_reason(marts, "cohort_retention", columns, lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    all_rows = marts["cohort_retention"].filter(pl.col("cohort_basis") == "first_transaction")
    rows = all_rows.filter(pl.col("users") >= settings.min_group_size)
    if rows.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    fig = cohort_retention_figure(rows, settings, value_column="revenue_retention", metric_id="revenue_retention",
                                  title_key="chart_revenue_retention", colorscale="Greens")
    fig.update_yaxes(title_text=label("axis_first_purchase_cohort", lang))
    fig.update_xaxes(title_text=label("axis_months_since_first_purchase", lang))
    hidden = all_rows["cohort"].n_unique() - rows["cohort"].n_unique()
    return Section(heading, figure=fig, notes=(window_text("revenue_retention", settings),
                                              label("note_partial_month", lang),
                                              *hidden_note(hidden, "hidden_cohorts", settings)))


def build_sections(marts: Marts, settings: DashboardSettings) -> list[Section]:
    return [
        tracking_section(marts, settings),
        by_frequency_section(marts, settings),
        value_by_group_section(marts, settings, "acquisition_channel", "chart_value_by_channel"),
        value_by_group_section(marts, settings, "persona_name", "chart_value_by_persona"),
        revenue_retention_section(marts, settings),
        model_table_section(marts, settings),
    ]
