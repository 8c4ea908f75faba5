"""Write every dashboard page and the index to a folder."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from dashboards.html import NavLink, render_page
from dashboards.index import INDEX_FILE, index_sections
from dashboards.labels import label
from dashboards.pages import PAGES
from dashboards.page_settings import DashboardSettings


def write_dashboards(
    out_dir: Path,
    marts: Mapping[str, pl.DataFrame],
    settings: DashboardSettings,
    run_info: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write ``index.html`` and one self-contained HTML file per page into ``out_dir``.

    Args:
        out_dir: folder to write into; created if missing.
        marts: mart name to frame; any may be missing or empty (the page then says so).
        settings: language, minimum group size, currency and title.
        run_info: shown on the index (e.g. ``as_of``); ``generated_at`` is added when absent.

    Returns:
        The written paths, index first, then the pages in navigation order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lang = settings.language
    info = dict(run_info or {})
    info.setdefault("generated_at", datetime.now(UTC).replace(microsecond=0).isoformat())
    footer = f"{settings.title} · {label('generated_at', lang)} {info['generated_at']}"

    page_links = [NavLink(f"{page.SLUG}.html", label(page.TITLE_KEY, lang)) for page in PAGES]
    nav = [NavLink(INDEX_FILE, label("page_index", lang)), *page_links]

    written = []
    for page, link in zip(PAGES, page_links, strict=True):
        html = render_page(link.text, page.build_sections(marts, settings), settings, nav, link.href, footer)
        written.append(_write(out_dir / link.href, html))

    sections = index_sections(marts, settings, info, page_links)
    index_html = render_page(label("page_index", lang), sections, settings, nav, INDEX_FILE, footer)
    return [_write(out_dir / INDEX_FILE, index_html), *written]


def _write(path: Path, html: str) -> Path:
    path.write_text(html, encoding="utf-8")
    return path
