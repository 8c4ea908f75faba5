"""Growth page: personas and how they were chosen, RFM segments, personas across segments, lifecycle over time."""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl

from dashboards.availability import unavailable_reason
from dashboards.figures import FIGURE_HEIGHT, PALETTE, base_layout, date_axis, marked_cells_trace, persona_names
from dashboards.html import Section, table_html
from dashboards.labels import label, segment_label, value_label
from dashboards.metric_text import cell, metric_header, window_text
from dashboards.page_settings import DashboardSettings
from dashboards.privacy import all_suppressed_reason, hidden_note, suppress_small_groups
from segments.rfm import RFM_SEGMENTS

SLUG = "growth"
TITLE_KEY = "page_growth"

Marts = Mapping[str, pl.DataFrame | None]

# Journey order for stacked lifecycle areas.
STAGE_ORDER = ("new", "active", "reactivated", "at_risk", "dormant", "churned", "never_transacted")


def persona_name_map(marts: Marts, language: str) -> dict[str, str]:
    """English persona name (the key the segment marts carry) -> the name in the reader's language."""
    persona = marts.get("persona")
    if persona is None or "persona_name" not in persona.columns:
        return {}
    return dict(zip(persona["persona_name"].to_list(), persona_names(persona, language).to_list(), strict=True))


def persona_table_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("persona_table", lang)
    reason = unavailable_reason(marts, "persona", ["persona_name", "users", "share", "description"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    shown = suppress_small_groups(marts["persona"], ["persona_name"], "users", settings.min_group_size)
    kept = shown.kept.sort("users", descending=True)
    descriptions = (kept["description_zh"] if lang == "zh" and "description_zh" in kept.columns
                    else kept["description"]).to_list()
    never = kept["never_bought_share"].to_list() if "never_bought_share" in kept.columns else [None] * kept.height
    rows = [
        (name, cell("persona_users", users, settings), f"{share:.1%}", "—" if nb is None else f"{nb:.0%}",
         description or "")
        for name, users, share, nb, description in zip(
            persona_names(kept, lang).to_list(), kept["users"].to_list(), kept["share"].to_list(), never,
            descriptions, strict=True)
    ]
    headers = [label(key, lang) for key in ("col_persona", "col_users", "col_share", "col_never_bought",
                                            "col_description")]
    notes = (window_text("persona_users", settings), *hidden_note(shown.hidden_groups, "hidden_personas", settings))
    return Section(heading, body_html=table_html(headers, rows, [False, True, True, True, False]), notes=notes)


def k_evidence_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("chart_k_evidence", lang)
    reason = unavailable_reason(marts, "persona_k_evidence", ["k", "silhouette", "chosen"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    evidence = marts["persona_k_evidence"].sort("k")
    fig = go.Figure(go.Scatter(x=evidence["k"].to_list(), y=evidence["silhouette"].to_list(), mode="lines+markers",
                               name=label("series_silhouette", lang)))
    if "stability" in evidence.columns and evidence["stability"].drop_nulls().len():
        fig.add_trace(go.Scatter(x=evidence["k"].to_list(), y=evidence["stability"].to_list(), mode="lines+markers",
                                 name=label("series_stability", lang)))
    chosen = evidence.filter(pl.col("chosen"))
    if chosen.height:
        k = int(chosen["k"][0])
        fig.add_vline(x=k, line_dash="dash", line_color="#6b7280",
                      annotation_text=label("chosen_k", lang, k=k), annotation_position="top")
    base_layout(fig, heading, label("axis_k", lang), label("axis_score", lang))
    fig.update_xaxes(dtick=1)
    return Section(heading, figure=fig)


def _segment_order(segments: list[str]) -> list[str]:
    """RFM segments in the grid's order (best first), unknown ones after them alphabetically."""
    known = [segment for segment in RFM_SEGMENTS if segment in segments]
    return known + sorted(set(segments) - set(known))


def rfm_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("chart_rfm", lang)
    reason = unavailable_reason(marts, "user_segment", ["rfm_segment"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    counts = marts["user_segment"].group_by("rfm_segment").agg(pl.len().cast(pl.Int64).alias("users"))
    shown = suppress_small_groups(counts, ["rfm_segment"], "users", settings.min_group_size)
    by_segment = dict(shown.kept.iter_rows())
    order = _segment_order(list(by_segment))
    fig = go.Figure(go.Bar(
        x=[by_segment[s] for s in order], y=[segment_label(s, lang) for s in order], orientation="h",
        marker_color=PALETTE[0], customdata=order, text=[f"{by_segment[s]:,}" for s in order],
        textposition="outside", cliponaxis=False, constraintext="none",
        hovertemplate="%{y}: %{x:,}<extra></extra>"))
    base_layout(fig, heading, metric_header("segment_users", settings), label("axis_segment", lang))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(showlegend=False, height=max(FIGURE_HEIGHT, 60 + 28 * len(order)), margin={"r": 80})
    notes = (window_text("segment_users", settings), label("note_rfm_order", lang),
             *hidden_note(shown.hidden_groups, "hidden_cells", settings))
    return Section(heading, figure=fig, notes=notes)


def persona_rfm_section(marts: Marts, settings: DashboardSettings) -> Section:
    """Heatmap of users per persona × RFM segment: a cell below the minimum group size is a grey "< n" cell, an
    empty combination a 0, so a blank never has to be guessed at."""
    lang = settings.language
    heading = label("chart_persona_rfm", lang)
    reason = unavailable_reason(marts, "user_segment", ["persona_name", "rfm_segment"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    cells = (
        marts["user_segment"].drop_nulls(["persona_name", "rfm_segment"])
        .group_by("persona_name", "rfm_segment").agg(pl.len().cast(pl.Int64).alias("users"))
    )
    # A persona too small to show is left out altogether; within the others small cells are marked.
    persona_sizes = cells.group_by("persona_name").agg(pl.col("users").sum())
    personas = sorted(persona_sizes.filter(pl.col("users") >= settings.min_group_size)["persona_name"].to_list())
    cells = cells.filter(pl.col("persona_name").is_in(personas))
    if not personas or cells.filter(pl.col("users") >= settings.min_group_size).height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    segments = _segment_order(cells["rfm_segment"].unique().to_list())
    counts = {(r["persona_name"], r["rfm_segment"]): r["users"] for r in cells.iter_rows(named=True)}
    small = {key for key, users in counts.items() if users < settings.min_group_size}
    z = [[None if (p, s) in small else counts.get((p, s), 0) for s in segments] for p in personas]
    names = persona_name_map(marts, lang)
    y = [names.get(p, p) for p in personas]
    x = [segment_label(s, lang) for s in segments]
    suppressed = label("suppressed_cell", lang, n=settings.min_group_size)
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=y, colorscale="Blues", texttemplate="%{z:,}", hoverongaps=False,
        hovertemplate="%{y}<br>%{x}: %{z:,}<extra></extra>", colorbar={"title": {"text": label("axis_users", lang)}},
        customdata=[[[p, s] for s in segments] for p in personas], name=label("axis_users", lang),
    ))
    if small:
        fig.add_trace(marked_cells_trace(x, y, [[suppressed if (p, s) in small else None for s in segments]
                                                for p in personas], suppressed))
    base_layout(fig, heading, label("axis_segment", lang), label("axis_persona", lang))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", automargin=True)
    fig.update_layout(height=max(FIGURE_HEIGHT, 160 + 40 * len(personas)), margin={"l": 40, "b": 120})
    notes = (window_text("segment_users", settings), label("note_rfm_order", lang),
             *hidden_note(len(small), "hidden_cells", settings))
    return Section(heading, figure=fig, notes=notes)


def lifecycle_history_section(marts: Marts, settings: DashboardSettings) -> Section:
    lang = settings.language
    heading = label("chart_lifecycle_history", lang)
    reason = unavailable_reason(marts, "lifecycle_counts", ["snapshot_date", "lifecycle_stage", "users"], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    counts = marts["lifecycle_counts"].filter(pl.col("users") >= settings.min_group_size).sort("snapshot_date")
    if counts.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    present = set(counts["lifecycle_stage"].to_list())
    fig = go.Figure([
        go.Scatter(x=stage_rows["snapshot_date"].to_list(), y=stage_rows["users"].to_list(), mode="lines+markers",
                   stackgroup="stages", name=value_label("stage", stage, lang), customdata=[stage] * stage_rows.height)
        for stage in (*STAGE_ORDER, *sorted(present - set(STAGE_ORDER))) if stage in present
        for stage_rows in [counts.filter(pl.col("lifecycle_stage") == stage)]
    ])
    base_layout(fig, heading, label("axis_date", lang), metric_header("lifecycle_users", settings))
    date_axis(fig)
    fig.update_xaxes(dtick="M1", tickformat="%Y-%m-%d")
    first, last = counts["snapshot_date"].min(), counts["snapshot_date"].max()
    notes = (window_text("lifecycle_users", settings, start=first, end=last), label("note_lifecycle_rules", lang))
    return Section(heading, figure=fig, notes=notes)


def movement_section(marts: Marts, settings: DashboardSettings) -> Section:
    """Users moving between personas since the previous run; flows below the minimum group size are hidden."""
    lang = settings.language
    heading = label("chart_persona_movement", lang)
    columns = ["dimension", "from_as_of", "to_as_of", "from_segment", "to_segment", "users"]
    reason = unavailable_reason(marts, "segment_movement", columns, lang)
    if reason:
        return Section(heading, unavailable=(reason,), notes=(label("movement_needs_two_runs", lang),))
    moves = marts["segment_movement"].filter(pl.col("dimension") == "persona")
    latest = moves["to_as_of"].max()
    moves = moves.filter(pl.col("to_as_of") == latest)
    hidden = moves.filter(pl.col("users") < settings.min_group_size).height
    moves = moves.filter(pl.col("users") >= settings.min_group_size)
    if moves.height == 0:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    sources = sorted(set(moves["from_segment"].to_list()))
    targets = sorted(set(moves["to_segment"].to_list()))
    names = persona_name_map(marts, lang)
    nodes = ([f"{names.get(name, name)} ({moves['from_as_of'][0]})" for name in sources]
             + [f"{names.get(name, name)} ({latest})" for name in targets])
    fig = go.Figure(go.Sankey(
        node={"label": nodes, "pad": 12},
        link={"source": [sources.index(f) for f in moves["from_segment"].to_list()],
              "target": [len(sources) + targets.index(t) for t in moves["to_segment"].to_list()],
              "value": moves["users"].to_list()},
    ))
    base_layout(fig, heading, "", "")
    fig.update_layout(height=max(FIGURE_HEIGHT, 60 * len(nodes)))
    notes = hidden_note(hidden, "hidden_cells", settings)
    return Section(heading, figure=fig, notes=notes)


CREDIT_FUNNEL = ("registered", "kyc_passed", "applied", "approved", "drawn", "repaying")
WEALTH_FUNNEL = ("registered", "risk_assessed", "first_purchase", "repeat_purchase")


def funnel_section(marts: Marts, settings: DashboardSettings, column: str, steps: tuple[str, ...],
                   heading_key: str) -> Section:
    """Users who reached at least each step (the profile stores the furthest step reached)."""
    lang = settings.language
    heading = label(heading_key, lang)
    reason = unavailable_reason(marts, "user_profile", [column], lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    furthest = dict(marts["user_profile"].group_by(column).len().iter_rows())
    reached = [sum(furthest.get(later, 0) for later in steps[index:]) for index in range(len(steps))]
    shown = [(step, users) for step, users in zip(steps, reached, strict=True) if users >= settings.min_group_size]
    if not shown:
        return Section(heading, unavailable=(all_suppressed_reason(settings),))
    fig = go.Figure(go.Funnel(y=[value_label("funnel", step, lang) for step, _ in shown], x=[u for _, u in shown],
                              texttemplate="%{value:,}<br>%{percentInitial:.0%}",
                              customdata=[step for step, _ in shown]))
    base_layout(fig, heading, label("axis_users", lang), "")
    return Section(heading, figure=fig, notes=(window_text("persona_users", settings), label("note_funnel", lang)))


def build_sections(marts: Marts, settings: DashboardSettings) -> list[Section]:
    return [
        persona_table_section(marts, settings),
        k_evidence_section(marts, settings),
        persona_rfm_section(marts, settings),
        rfm_section(marts, settings),
        movement_section(marts, settings),
        lifecycle_history_section(marts, settings),
        funnel_section(marts, settings, "credit_funnel_stage", CREDIT_FUNNEL, "chart_credit_funnel"),
        funnel_section(marts, settings, "wealth_funnel_stage", WEALTH_FUNNEL, "chart_wealth_funnel"),
    ]
