"""The index page: the headline a reader wants first, links to every page, and (folded) the run's details."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import polars as pl

from dashboards.availability import unavailable_reason
from dashboards.formatting import format_count
from dashboards.html import NavLink, Section, table_html
from dashboards.kpis import INDEX_TILES, METRIC_VALUES_COLUMNS, headline_tiles
from dashboards.labels import LABELS, label
from dashboards.page_settings import DashboardSettings
from dashboards.tiles import tiles_html

INDEX_FILE = "index.html"

# Marts the pages read; listed even when absent so a reader sees what is missing.
EXPECTED_MARTS = ("metric_values", "kpi_daily", "cohort_retention", "channel_roi", "user_clv", "user_profile",
                  "persona")


def _run_info_label(key: str, language: str) -> str:
    return label(key, language) if key in LABELS else key


def headline_section(marts: Mapping[str, pl.DataFrame | None], settings: DashboardSettings) -> Section:
    """Acquisition, activation, retention, revenue, CAC and LTV:CAC against their targets."""
    lang = settings.language
    heading = label("headline", lang)
    reason = unavailable_reason(marts, "metric_values", METRIC_VALUES_COLUMNS, lang)
    if reason:
        return Section(heading, unavailable=(reason,))
    tiles = headline_tiles(marts["metric_values"], INDEX_TILES, dict(settings.targets))
    return Section(heading, body_html=tiles_html(tiles, settings), explain=(label("explain_like_for_like", lang),))


def index_sections(
    marts: Mapping[str, pl.DataFrame | None],
    settings: DashboardSettings,
    run_info: Mapping[str, str],
    pages: Sequence[NavLink],
) -> list[Section]:
    """Sections of the index page."""
    lang = settings.language
    links = "".join(
        f'<li><a href="{escape(page.href)}">{escape(page.text)}</a> — '
        f'{escape(label("about_" + page.href.removesuffix(".html"), lang))}</li>'
        for page in pages)
    run_rows = [(_run_info_label(key, lang), str(value)) for key, value in run_info.items()]
    mart_names = [*EXPECTED_MARTS, *sorted(name for name in marts if name not in EXPECTED_MARTS)]
    mart_rows = []
    for name in mart_names:
        frame = marts.get(name)
        if frame is None:
            mart_rows.append((name, label("not_provided", lang), ""))
        else:
            mart_rows.append((name, format_count(frame.height), format_count(frame.width)))
    details = (
        f"<details><summary>{escape(label('details_for_engineers', lang))}</summary>"
        f"<h3>{escape(label('run_info', lang))}</h3>{table_html(['', ''], run_rows, [False, False])}"
        f"<h3>{escape(label('mart_row_counts', lang))}</h3>"
        + table_html([label("mart", lang), label("rows", lang), label("columns", lang)], mart_rows,
                     [False, True, True])
        + "</details>"
    )
    return [
        headline_section(marts, settings),
        Section(label("pages", lang), body_html=f'<ul class="pages">{links}</ul>',
                notes=(label("min_group_note", lang, n=settings.min_group_size),)),
        Section(label("details", lang), body_html=details),
    ]
