"""The dashboards, served from the warehouse (read-only, one short session per page) with a date range and a
segment filter. The offline HTML files of a run stay as they are, for sharing.

A page is the same `dashboards` page the run writes, built from the filtered marts; it embeds plotly.js
inline, so it is served as its own document under a sandboxing CSP and framed by the console (opaque origin:
it cannot read the console's cookies or pages).
"""

from __future__ import annotations

from datetime import date

import polars as pl
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from dashboards.marts import data_window, read_dashboard_marts
from dashboards.html import render_page
from dashboards.labels import label
from dashboards.page_settings import DashboardSettings
from dashboards.pages import PAGES
from pipelines.console.i18n import translator
from pipelines.console.security import DASHBOARD_CSP
from pipelines.console.web import console_of, language_of, page, refusal, render
from warehouse import table_exists

PAGES_BY_SLUG = {module.SLUG: module for module in PAGES}
# Columns that put a row in time (a day, a month start, a snapshot); a mart with one is cut to the date range.
TIME_COLUMNS = ("date", "snapshot_date", "cohort_month", "acquisition_month", "month")


@page("dashboard.view")
def dashboard_index(request: Request) -> Response:
    lang = language_of(request)
    pages = [(module.SLUG, label(module.TITLE_KEY, lang)) for module in PAGES]
    return render(request, "dashboards.html", pages=pages)


@page("dashboard.view")
def dashboard(request: Request) -> Response:
    module = PAGES_BY_SLUG.get(request.path_params["slug"])
    if module is None:
        return refusal(request, 404, translator(language_of(request))("dashboard_unknown"))
    filters = _filters(request)
    with console_of(request).warehouse() as conn:
        segments = ([row[0] for row in conn.execute("SELECT DISTINCT rfm_segment FROM marts.user_segment WHERE "
                                                    "rfm_segment IS NOT NULL ORDER BY 1").fetchall()]
                    if table_exists(conn, "marts.user_segment") else [])
    query = request.url.query
    return render(request, "dashboard.html", slug=module.SLUG, title=label(module.TITLE_KEY, language_of(request)),
                  filters=filters, segments=segments, frame_url=f"/dashboards/{module.SLUG}/frame" + (f"?{query}" if query
                                                                                                      else ""))


@page("dashboard.view")
def dashboard_frame(request: Request) -> Response:
    console = console_of(request)
    module = PAGES_BY_SLUG.get(request.path_params["slug"])
    if module is None:
        return refusal(request, 404, translator(language_of(request))("dashboard_unknown"))
    start, end, segment = _filters(request)
    with console.warehouse() as conn:
        as_of, currency, _basis, data_from = data_window(conn)
        marts = read_dashboard_marts(conn)
        members = (pl.from_arrow(conn.execute("SELECT user_id FROM marts.user_segment WHERE rfm_segment = ?",
                                              [segment]).arrow()) if segment else None)
    marts = {name: _filtered(frame, start, end, members, segment) for name, frame in marts.items()}
    lang = language_of(request)
    settings = DashboardSettings(language=lang, min_group_size=console.min_group_size, currency=currency,
                                 as_of=end or as_of, data_from=start or data_from)
    html = render_page(label(module.TITLE_KEY, lang), module.build_sections(marts, settings), settings, [], "",
                       f"fingrowth · {label('generated_at', lang)} {as_of}")
    return HTMLResponse(html, headers={"Content-Security-Policy": DASHBOARD_CSP, "X-Frame-Options": "SAMEORIGIN",
                                       "Cache-Control": "no-store"})


def _filters(request: Request) -> tuple[date | None, date | None, str | None]:
    query = request.query_params
    try:
        start = date.fromisoformat(query["from"]) if query.get("from") else None
        end = date.fromisoformat(query["to"]) if query.get("to") else None
    except ValueError:
        raise ValueError("dates must be YYYY-MM-DD") from None
    if start and end and start > end:
        raise ValueError(f"the date range starts after it ends ({start} > {end})")
    return start, end, (query.get("segment") or None)


def _filtered(frame: pl.DataFrame, start: date | None, end: date | None, members: pl.DataFrame | None,
              segment: str | None) -> pl.DataFrame:
    """Rows within the date range (marts that have time) and, with a segment, of its members (per-person marts)."""
    for column in TIME_COLUMNS:
        if column in frame.columns and (frame.schema[column] == pl.Date or isinstance(frame.schema[column], pl.Datetime)):
            day = pl.col(column).cast(pl.Date)
            if start:
                frame = frame.filter(day >= start)
            if end:
                frame = frame.filter(day <= end)
            break
    if segment and "rfm_segment" in frame.columns:
        frame = frame.filter(pl.col("rfm_segment") == segment)
    elif members is not None and "user_id" in frame.columns:
        frame = frame.join(members, on="user_id", how="semi")
    return frame
