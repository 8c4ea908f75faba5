"""The index page: links to every page, run information and mart row counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import polars as pl

from dashboards.formatting import format_count
from dashboards.html import NavLink, Section, table_html
from dashboards.labels import LABELS, label
from dashboards.page_settings import DashboardSettings

INDEX_FILE = "index.html"

# Marts the pages read; listed even when absent so a reader sees what is missing.
EXPECTED_MARTS = ("kpi_daily", "cohort_retention", "channel_roi", "user_clv", "user_profile", "persona")


def _run_info_label(key: str, language: str) -> str:
    return label(key, language) if key in LABELS else key


def index_sections(
    marts: Mapping[str, pl.DataFrame | None],
    settings: DashboardSettings,
    run_info: Mapping[str, str],
    pages: Sequence[NavLink],
) -> list[Section]:
    """Sections of the index page."""
    lang = settings.language
    links = "".join(f'<li><a href="{escape(page.href)}">{escape(page.text)}</a></li>' for page in pages)
    run_rows = [(_run_info_label(key, lang), str(value)) for key, value in run_info.items()]
    mart_names = [*EXPECTED_MARTS, *sorted(name for name in marts if name not in EXPECTED_MARTS)]
    mart_rows = []
    for name in mart_names:
        frame = marts.get(name)
        if frame is None:
            mart_rows.append((name, label("not_provided", lang), ""))
        else:
            mart_rows.append((name, format_count(frame.height), format_count(frame.width)))
    return [
        Section(label("pages", lang), body_html=f"<ul>{links}</ul>"),
        Section(
            label("run_info", lang),
            body_html=table_html(["", ""], run_rows, [False, False]),
            notes=(label("min_group_note", lang, n=settings.min_group_size),),
        ),
        Section(
            label("mart_row_counts", lang),
            body_html=table_html(
                [label("mart", lang), label("rows", lang), label("columns", lang)], mart_rows, [False, True, True]
            ),
        ),
    ]
