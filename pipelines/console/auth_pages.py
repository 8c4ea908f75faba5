"""Signing in and out, the language switch, the health check and the home page."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from pipelines.console.i18n import LANGUAGES, translator
from pipelines.console.security import CSRF_FIELD, LANGUAGE_COOKIE, LOGIN_COOKIE, SESSION_COOKIE
from pipelines.console.web import (
    console_of,
    language_of,
    page,
    redirect,
    render,
    safe_next,
    session_id_of,
)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def login_form(request: Request) -> Response:
    """The sign-in form (also for someone signed in already: signing in again replaces the session)."""
    return _login_page(request)


async def login(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    nonce = console.keys.login_nonce(request.cookies.get(LOGIN_COOKIE))
    t = translator(language_of(request))
    if not console.keys.csrf_ok(f"login\x1f{nonce}" if nonce else None, form.get(CSRF_FIELD)):
        await run_in_threadpool(console.service.record_action, "<none>", "console.csrf_refused", "/login",
                                {"method": "POST"})
        return _login_page(request, t("csrf_refused"), 403)
    client = request.client.host if request.client else "unknown"
    if console.throttle.blocked(client):
        await run_in_threadpool(console.service.record_action, str(form.get("user_name", ""))[:120] or "<none>",
                                "console.sign_in_throttled", "/login", {"client": client})
        return _login_page(request, t("login_throttled"), 429)
    session = await run_in_threadpool(console.service.sign_in, str(form.get("user_name", "")).strip(),
                                      str(form.get("password", "")), console.lifetime, client)
    if session is None:
        console.throttle.failed(client)
        return _login_page(request, t("login_refused"), 401)
    console.throttle.succeeded(client)
    response = redirect(safe_next(str(form.get("next", "")) or None))
    response.set_cookie(SESSION_COOKIE, console.keys.sign_session(session.session_id),
                        max_age=console.keys.lifetime_seconds, httponly=True, samesite="strict", secure=console.https,
                        path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@page()
def logout(request: Request) -> Response:
    console = console_of(request)
    session_id = session_id_of(request)
    if session_id:
        console.service.sign_out(session_id)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=console.https)
    return response


async def choose_language(request: Request) -> Response:
    """Remember the reader's language in a cookie (a preference of this browser; no server state changes)."""
    lang = request.path_params["lang"]
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=console_of(request).https, path="/")
    return response


@page()
def home(request: Request) -> Response:
    return render(request, "home.html")


def _login_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    console = console_of(request)
    nonce, cookie = console.keys.new_login_nonce()
    response = render(request, "login.html", status_code=status_code, error=error,
                      login_csrf=console.keys.csrf_token(f"login\x1f{nonce}"),
                      next=safe_next(request.query_params.get("next") or None))
    response.set_cookie(LOGIN_COOKIE, cookie, max_age=3600, httponly=True, samesite="strict", secure=console.https,
                        path="/")
    return response
