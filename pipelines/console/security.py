"""The console's session cookie, CSRF tokens, sign-in throttle and security headers.

- Session: the browser holds only a random session id, signed (itsdangerous) with the console secret and
  limited to the session lifetime; the campaign store keeps the session (by the id's hash) and ends it at
  sign-out, expiry or idle time, so a copied cookie stops working with the session. The cookie is HttpOnly and
  SameSite=Strict (Secure when served over HTTPS).
- CSRF: a synchronizer token bound to the session (HMAC of its id) in every state-changing form; before
  sign-in, a token bound to a random pre-session nonce in its own signed cookie.
- Throttle: failed sign-ins per client address within a window (per account, the service locks the account).
- Headers: a strict Content-Security-Policy (no inline script or style anywhere in the console's own pages),
  no framing, no referrer, no caching of authenticated pages.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "fg_session"
LOGIN_COOKIE = "fg_login"
LANGUAGE_COOKIE = "fg_lang"
CSRF_FIELD = "csrf_token"

CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; frame-src 'self'")
# A template preview is written by someone with less privilege than its reader: no script, no form, no
# remote load; its own inline styles may apply. Framed by the console only.
PREVIEW_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'self'")
# A dashboard page embeds plotly.js inline; it runs in a sandboxed frame (opaque origin: no cookies, no access
# to the console) and may load nothing from anywhere.
DASHBOARD_CSP = ("sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
                 "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; base-uri 'none'; "
                 "form-action 'none'; frame-ancestors 'self'")

BASE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"x-xss-protection", b"0"),
)


@dataclass(frozen=True)
class SessionKeys:
    """Signs session and pre-session cookies and derives CSRF tokens, all from the console secret."""

    secret: str
    lifetime_seconds: int

    def sign_session(self, session_id: str) -> str:
        return self._serializer("session").dumps(session_id)

    def session_id(self, cookie: str | None) -> str | None:
        """The session id of a cookie whose signature holds and that is younger than the lifetime."""
        return self._load("session", cookie, self.lifetime_seconds)

    def new_login_nonce(self) -> tuple[str, str]:
        """A fresh pre-session nonce and its signed cookie value."""
        nonce = secrets.token_urlsafe(24)
        return nonce, self._serializer("login").dumps(nonce)

    def login_nonce(self, cookie: str | None) -> str | None:
        return self._load("login", cookie, 3600)

    def csrf_token(self, bound_to: str) -> str:
        return hmac.new(self.secret.encode(), f"csrf\x1f{bound_to}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, bound_to: str | None, token: str | None) -> bool:
        if not bound_to or not token:
            return False
        return hmac.compare_digest(self.csrf_token(bound_to), str(token))

    def _serializer(self, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=f"fingrowth-console-{salt}")

    def _load(self, salt: str, cookie: str | None, max_age: int) -> str | None:
        if not cookie:
            return None
        try:
            value = self._serializer(salt).loads(cookie, max_age=max_age)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


class SignInThrottle:
    """At most `limit` failed sign-ins per client address within `window_seconds` (then 429 until they age out)."""

    def __init__(self, limit: int = 20, window_seconds: float = 300.0) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client)) >= self.limit

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client).append(time.monotonic())

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        stamps = self._failures.setdefault(client, deque())
        while stamps and stamps[0] < time.monotonic() - self.window:
            stamps.popleft()
        return stamps


class SecurityHeaders:
    """Pure ASGI middleware: the base headers on every answer, and the console's CSP, no-framing and no-store on
    every answer that did not set its own policy (the preview and dashboard frames do)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [header for header in BASE_HEADERS if header[0] not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CONSOLE_CSP.encode()))
                    headers.append((b"x-frame-options", b"DENY"))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def random_secret() -> str:
    return secrets.token_urlsafe(48)
