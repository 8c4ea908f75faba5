"""What every console page shares: who is signed in, the CSRF check, the role check through the campaign
service, rendering in the user's language, and the answers for refusals.

A page handler is a plain function `handler(request) -> Response` wrapped by `page(action)`: the wrapper
sends a visitor without a live session to `/login`, checks the CSRF token of every POST, asks the campaign
service whether the user's role may perform `action` (the service audits a denial), and runs the handler in a
worker thread (the service's calls block). The service checks the role again in each use case it runs, so
a page can never grant more than the command line would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from campaigns.campaign_errors import CampaignError, PermissionDenied, StoreUnavailable
from campaigns.governance.access import Actor
from campaigns.service import CampaignService
from pipelines.campaign_wiring import WarehouseSessions
from pipelines.console.i18n import LANGUAGES, translator
from pipelines.console.security import CSRF_FIELD, LANGUAGE_COOKIE, SESSION_COOKIE, SessionKeys, SignInThrottle

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

# The pages of the navigation bar: (path, label key, the permission that shows it).
NAVIGATION = (
    ("/templates", "nav_templates", "template.list"),
    ("/review", "nav_review", "template.approve"),
    ("/campaigns", "nav_campaigns", "campaign.status"),
    ("/people", "nav_people", "recipient.explain"),
    ("/audit", "nav_audit", "audit.read"),
    ("/dashboards", "nav_dashboards", "dashboard.view"),
    ("/accounts", "nav_accounts", "account.manage"),
)


@dataclass
class Console:
    """The console's collaborators, kept on `app.state.console`."""

    service: CampaignService
    keys: SessionKeys
    idle: timedelta
    warehouse: WarehouseSessions
    timezone: str
    default_language: str = "en"
    min_group_size: int = 10
    https: bool = False
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    templates: Jinja2Templates = field(init=False)

    def __post_init__(self) -> None:
        environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                                         undefined=jinja2.StrictUndefined)
        self.templates = Jinja2Templates(env=environment)

    @property
    def lifetime(self) -> timedelta:
        return timedelta(seconds=self.keys.lifetime_seconds)


def console_of(request: Request) -> Console:
    return request.app.state.console


def language_of(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else console_of(request).default_language


def session_id_of(request: Request) -> str | None:
    return console_of(request).keys.session_id(request.cookies.get(SESSION_COOKIE))


def current_actor(request: Request) -> Actor | None:
    """The signed-in user with their current role (None: no cookie, a bad signature, or an ended session)."""
    session_id = session_id_of(request)
    if session_id is None:
        return None
    return console_of(request).service.session_actor(session_id, console_of(request).idle)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """A page in the user's language, with the navigation their role may use and the session's CSRF token."""
    console = console_of(request)
    lang = language_of(request)
    actor: Actor | None = getattr(request.state, "actor", None)
    session_id = session_id_of(request) if actor else None
    nav = []
    if actor is not None:
        nav = [(path, key) for path, key, action in NAVIGATION if console.service.may(actor.user, action)]
    base = {
        "t": translator(lang), "lang": lang, "actor": actor, "nav": nav, "path": request.url.path,
        "csrf_field": CSRF_FIELD, "csrf": console.keys.csrf_token(session_id) if session_id else "",
        "timezone": console.timezone, "may": (lambda action: actor is not None and console.service.may(actor.user, action)),
        "next_here": quote(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""), safe=""),
    }
    return console.templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def refusal(request: Request, status_code: int, message: str) -> Response:
    return render(request, "refused.html", status_code=status_code, status=status_code, message=message)


def page(action: str | None = None) -> Callable:
    """Wrap a handler: session required, CSRF checked on POST, the role checked through the service for `action`."""

    def wrap(handler: Callable[[Request], Response]) -> Callable:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            console = console_of(request)
            actor = await run_in_threadpool(current_actor, request)
            if actor is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            request.state.actor = actor
            if request.method == "POST":
                form = await request.form()
                request.state.form = form
                if not console.keys.csrf_ok(session_id_of(request), form.get(CSRF_FIELD)):
                    await run_in_threadpool(console.service.record_action, actor.user, "console.csrf_refused",
                                            request.url.path, {"method": request.method})
                    return refusal(request, 403, translator(language_of(request))("csrf_refused"))
            try:
                if action is not None:
                    await run_in_threadpool(console.service.check_access, actor.user, action, request.url.path)
                return await run_in_threadpool(handler, request)
            except PermissionDenied as denied:
                return refusal(request, 403, str(denied))
            except StoreUnavailable as busy:
                return refusal(request, 503, str(busy))
            except (CampaignError, ValueError, FileNotFoundError) as refused:
                return refusal(request, 400, str(refused))

        return endpoint

    return wrap


def form_of(request: Request):
    return request.state.form


def redirect(path: str) -> RedirectResponse:
    """POST-redirect-GET."""
    return RedirectResponse(path, status_code=303)


def safe_next(target: str | None) -> str:
    """Only a path of this site (never `//host` or a scheme) may be a redirect target."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
