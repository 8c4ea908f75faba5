"""Campaign page: the audience funnel through every rule, sends, deliveries, opens, clicks, and lift against holdout.

Inputs (frames in the ``marts`` mapping, built by the reporting asset; none holds contact data):
- ``campaign_funnel``: one row per campaign × step (``audience``, each rule in evaluation order, ``holdout``):
  ``campaign_id``, ``source`` (``launch`` or ``dry_run``), ``step``, ``remaining``, ``excluded``, ``failing``.
- ``campaign_results``: one row per campaign: ``campaign_id``, ``source``, ``audience``, ``send``, ``holdout``,
  ``excluded``, ``recipients_sent`` (in batches SendGrid accepted or files exported) and distinct people per
  provider event: ``delivered``, ``open``, ``click``, ``bounce``, ``unsubscribe``.
- ``campaign_lift``: ``marts.campaign_lift`` (treated vs holdout conversion with a confidence interval).

Counts of people between 1 and the minimum group size minus one are shown as "< n"; a campaign whose
audience is below the minimum is left out entirely.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl

from dashboards.availability import unavailable_reason
from dashboards.figures import PALETTE, base_layout
from dashboards.html import Section, table_html
from dashboards.labels import label, rule_label
from dashboards.privacy import all_suppressed_reason, hidden_note
from dashboards.page_settings import DashboardSettings

SLUG = "campaigns"
TITLE_KEY = "page_campaigns"

Marts = Mapping[str, pl.DataFrame | None]

FUNNEL_COLUMNS = ["campaign_id", "source", "step", "remaining", "excluded", "failing"]
RESULT_COLUMNS = ["campaign_id", "source", "audience", "send", "holdout", "excluded", "recipients_sent",
                  "delivered", "open", "click", "bounce", "unsubscribe"]
LIFT_COLUMNS = ["campaign_id", "treated_users", "treated_converted", "holdout_users", "holdout_converted",
                "treated_rate", "holdout_rate", "lift", "lift_low", "lift_high", "window_complete"]


def count_text(value: int | None, settings: DashboardSettings) -> str:
    """A count of people, or "< n" when it is a group smaller than the minimum (zero is shown)."""
    if value is None:
        return "—"
    if 0 < value < settings.min_group_size:
        return f"< {settings.min_group_size}"
    return f"{value:,}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _points(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f} pp"


def _shown_campaigns(marts: Marts, settings: DashboardSettings) -> tuple[list[str], int]:
    """Campaigns whose audience reaches the minimum group size (in results order), and how many were hidden."""
    results = marts.get("campaign_results")
    if results is None or results.height == 0 or not {"campaign_id", "audience"} <= set(results.columns):
        return [], 0
    ordered = results.sort("campaign_id")
    shown = ordered.filter(pl.col("audience") >= settings.min_group_size)["campaign_id"].to_list()
    return shown, ordered.height - len(shown)


def _step_label(step: str, language: str) -> str:
    if step in ("audience", "holdout"):
        return label(f"step_{step}", language)
    return rule_label(step, language)


def _no_sends(marts: Marts) -> bool:
    results = marts.get("campaign_results")
    return (results is None or "recipients_sent" not in results.columns
            or int(results["recipients_sent"].fill_null(0).sum()) == 0)


def overview_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("campaign_overview", lang)
    notes: list[str] = []
    if _no_sends(marts):
        notes.append(label("campaign_no_sends", lang))
    reason = unavailable_reason(marts, "campaign_results", RESULT_COLUMNS, lang)
    if reason:
        return Section(heading, unavailable=(reason,), notes=tuple(notes))
    shown, hidden = _shown_campaigns(marts, settings)
    if not shown:
        return Section(heading, unavailable=(all_suppressed_reason(settings),), notes=tuple(notes))
    rows = marts["campaign_results"].filter(pl.col("campaign_id").is_in(shown)).sort("campaign_id")
    count_columns = RESULT_COLUMNS[2:]
    cells = [
        (row["campaign_id"], label(f"source_{row['source']}", lang),
         *(count_text(row[column], settings) for column in count_columns))
        for row in rows.iter_rows(named=True)
    ]
    headers = [label("col_campaign", lang), label("col_source", lang),
               *(label(f"col_{column}", lang) for column in count_columns)]
    notes.extend(hidden_note(hidden, "hidden_campaigns", settings))
    notes.append(label("campaign_counts_note", lang))
    return Section(heading, body_html=table_html(headers, cells, [False, False] + [True] * len(count_columns)),
                   notes=tuple(notes))


def funnel_sections(marts: Marts, settings: DashboardSettings) -> list[Section]:
    """One section per shown campaign: a funnel chart of people remaining and a table of every step."""
    lang = settings.language
    reason = unavailable_reason(marts, "campaign_funnel", FUNNEL_COLUMNS, lang)
    if reason:
        return [Section(label("chart_campaign_funnel", lang, campaign=""), unavailable=(reason,))]
    shown, _ = _shown_campaigns(marts, settings)
    funnel = marts["campaign_funnel"]
    if not shown:
        shown = sorted(funnel["campaign_id"].unique().to_list())
        shown = [c for c in shown if (funnel.filter(pl.col("campaign_id") == c)["remaining"].max() or 0)
                 >= settings.min_group_size]
    sections = []
    for campaign_id in shown:
        steps = funnel.filter(pl.col("campaign_id") == campaign_id)
        if steps.height == 0:
            continue
        heading = label("chart_campaign_funnel", lang, campaign=campaign_id)
        source = label(f"source_{steps['source'][0]}", lang)
        names = [_step_label(step, lang) for step in steps["step"].to_list()]
        remaining = steps["remaining"].to_list()
        # Steps where fewer than the minimum remain are not drawn (their row in the table says "< n").
        drawn = [(name, value) for name, value in zip(names, remaining, strict=True)
                 if value == 0 or value >= settings.min_group_size]
        fig = go.Figure(go.Funnel(
            y=[name for name, _ in drawn], x=[value for _, value in drawn],
            texttemplate="%{value:,}<br>%{percentInitial:.0%}",
            marker={"color": PALETTE[0]}, customdata=[step for step, value in zip(steps["step"].to_list(), remaining,
                                                                                   strict=True)
                                                      if value == 0 or value >= settings.min_group_size],
        ))
        base_layout(fig, f"{heading} · {source}", label("axis_people_remaining", lang), label("axis_step", lang))
        fig.update_layout(height=max(360, 90 + 42 * len(drawn)), showlegend=False)
        fig.update_yaxes(automargin=True)
        cells = [
            (name, count_text(rem, settings), count_text(exc, settings), count_text(fail, settings))
            for name, rem, exc, fail in zip(names, remaining, steps["excluded"].to_list(), steps["failing"].to_list(),
                                            strict=True)
        ]
        table = table_html([label("col_step", lang), label("col_remaining", lang), label("col_excluded_here", lang),
                            label("col_failing", lang)], cells, [False, True, True, True])
        sections.append(Section(heading, figure=fig, body_html=table, notes=(label("funnel_rules_note", lang),)))
    if not sections:
        return [Section(label("chart_campaign_funnel", lang, campaign=""),
                        unavailable=(all_suppressed_reason(settings),))]
    return sections


def lift_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("chart_campaign_lift", lang)
    reason = unavailable_reason(marts, "campaign_lift", LIFT_COLUMNS, lang)
    if reason:
        no_launch = marts.get("campaign_lift") is not None and marts["campaign_lift"].height == 0
        return Section(heading, unavailable=(label("reason_no_lift", lang) if no_launch else reason,))
    lift = marts["campaign_lift"].filter(
        (pl.col("treated_users") >= settings.min_group_size) & (pl.col("holdout_users") >= settings.min_group_size)
    ).sort("campaign_id")
    hidden = marts["campaign_lift"].height - lift.height
    if lift.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    campaigns = lift["campaign_id"].to_list()
    values = lift["lift"].to_list()
    fig = go.Figure(go.Scatter(
        x=values, y=campaigns, mode="markers", marker={"size": 12, "color": PALETTE[1]},
        error_x={"type": "data", "symmetric": False,
                 "array": [high - mid for high, mid in zip(lift["lift_high"].to_list(), values, strict=True)],
                 "arrayminus": [mid - low for low, mid in zip(lift["lift_low"].to_list(), values, strict=True)]},
        hovertemplate="%{y}: %{x:+.1%}<extra></extra>", name=label("series_lift", lang),
    ))
    fig.add_vline(x=0, line_dash="dash", line_color="#6b7280")
    base_layout(fig, heading, label("axis_lift", lang), label("col_campaign", lang))
    fig.update_xaxes(tickformat="+.0%")
    fig.update_yaxes(type="category")
    fig.update_layout(height=max(300, 140 + 50 * lift.height), showlegend=False)
    cells = [
        (r["campaign_id"], count_text(r["treated_users"], settings), count_text(r["treated_converted"], settings),
         _percent(r["treated_rate"]), count_text(r["holdout_users"], settings),
         count_text(r["holdout_converted"], settings), _percent(r["holdout_rate"]), _points(r["lift"]),
         f"[{_points(r['lift_low'])}, {_points(r['lift_high'])}]",
         label("yes" if r["window_complete"] else "no", lang))
        for r in lift.iter_rows(named=True)
    ]
    headers = [label(k, lang) for k in ("col_campaign", "col_treated", "col_treated_converted", "col_treated_rate",
                                        "col_holdout", "col_holdout_converted", "col_holdout_rate", "col_lift",
                                        "col_lift_ci", "col_window_complete")]
    notes = (label("lift_note", lang), *hidden_note(hidden, "hidden_campaigns", settings))
    return Section(heading, figure=fig, body_html=table_html(headers, cells, [False] + [True] * 9), notes=notes)


def build_sections(marts: Marts, settings: DashboardSettings) -> list[Section]:
    return [overview_section(marts, settings), *funnel_sections(marts, settings), lift_section(marts, settings)]
