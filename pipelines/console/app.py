"""The console application: its routes, middleware and static files.

`ROUTE_TABLE` in docs/console.md documents, for every route, who may use it; the tests walk the router and
compare.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from campaigns.service import CampaignService
from pipelines.campaign_wiring import WarehouseSessions, campaign_service
from pipelines.console import auth_pages, campaign_views, compliance_pages, dashboard_pages, template_pages
from pipelines.console.security import SecurityHeaders, SessionKeys, random_secret
from pipelines.console.web import STATIC_DIR, Console, refusal
from pipelines.settings import Settings

# Form posts are small; anything larger is refused before it is parsed.
MAX_BODY_BYTES = 1024 * 1024

ROUTES = [
    Route("/healthz", auth_pages.healthz, methods=["GET"]),
    Route("/login", auth_pages.login_form, methods=["GET"]),
    Route("/login", auth_pages.login, methods=["POST"]),
    Route("/logout", auth_pages.logout, methods=["POST"]),
    Route("/language/{lang}", auth_pages.choose_language, methods=["GET"]),
    Route("/", auth_pages.home, methods=["GET"]),
    Route("/templates", template_pages.template_list, methods=["GET"]),
    Route("/templates", template_pages.save_template, methods=["POST"]),
    Route("/templates/new", template_pages.new_template, methods=["GET"]),
    Route("/templates/{template_id}/{version}", template_pages.show_template, methods=["GET"]),
    Route("/templates/{template_id}/{version}/edit", template_pages.edit_template, methods=["GET"]),
    Route("/templates/{template_id}/{version}/preview", template_pages.preview_frame, methods=["GET"]),
    Route("/templates/{template_id}/{version}/approve", template_pages.approve, methods=["POST"]),
    Route("/templates/{template_id}/{version}/reject", template_pages.reject, methods=["POST"]),
    Route("/review", template_pages.review_queue, methods=["GET"]),
    Route("/campaigns", campaign_views.campaign_list, methods=["GET"]),
    Route("/campaigns", campaign_views.save_campaign, methods=["POST"]),
    Route("/campaigns/new", campaign_views.new_campaign, methods=["GET"]),
    Route("/campaigns/{campaign_id}", campaign_views.show_campaign, methods=["GET"]),
    Route("/campaigns/{campaign_id}/edit", campaign_views.edit_campaign, methods=["GET"]),
    Route("/campaigns/{campaign_id}/preview", campaign_views.preview_audience, methods=["POST"]),
    Route("/campaigns/{campaign_id}/launch", campaign_views.launch, methods=["POST"]),
    Route("/people", compliance_pages.recipient_lookup, methods=["GET"]),
    Route("/audit", compliance_pages.audit_trail, methods=["GET"]),
    Route("/accounts", compliance_pages.account_list, methods=["GET"]),
    Route("/dashboards", dashboard_pages.dashboard_index, methods=["GET"]),
    Route("/dashboards/{slug}", dashboard_pages.dashboard, methods=["GET"]),
    Route("/dashboards/{slug}/frame", dashboard_pages.dashboard_frame, methods=["GET"]),
    Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
]


def build_console(service: CampaignService, warehouse: WarehouseSessions, secret: str, timezone: str,
                  session_lifetime: timedelta = timedelta(hours=8), idle: timedelta = timedelta(minutes=30),
                  language: str = "en", min_group_size: int = 10, https: bool = False) -> Starlette:
    """The console over a campaign service whose role directory holds the console accounts."""
    console = Console(service=service, keys=SessionKeys(secret, int(session_lifetime.total_seconds())), idle=idle,
                      warehouse=warehouse, timezone=timezone, default_language=language, min_group_size=min_group_size,
                      https=https)
    app = Starlette(routes=ROUTES, middleware=[Middleware(SecurityHeaders), Middleware(_BodyLimit)],
                    exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.console = console
    return app


def console_from_settings(settings: Settings, https: bool = False, **collaborators) -> Starlette:
    """The console the settings describe: accounts of the campaign store only (no roles file), the warehouse
    read-only, the session secret from FINGROWTH_CONSOLE_SECRET (else a random one for this process)."""
    service = campaign_service(settings, accounts_only=True, **collaborators)
    return build_console(service, WarehouseSessions(settings.warehouse, settings.timezone),
                         settings.console_secret_key() or random_secret(), settings.timezone,
                         timedelta(hours=settings.console_session_hours),
                         timedelta(minutes=settings.console_idle_minutes), settings.language, settings.min_group_size,
                         https)


async def _not_found(request: Request, exc: Exception) -> Response:
    request.state.actor = None
    return refusal(request, 404, "404")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    request.state.actor = None
    return refusal(request, 405, "405")


class _BodyLimit:
    """Refuse a request whose declared body is larger than MAX_BODY_BYTES with 413."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            length = dict(scope.get("headers", [])).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
                await send({"type": "http.response.start", "status": 413, "headers": [(b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)
