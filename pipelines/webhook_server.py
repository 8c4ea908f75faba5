"""A small HTTP receiver for the SendGrid Event Webhook (standard library only).

`POST <path>` with the signed JSON array is handed, byte for byte, to `CampaignService.receive_webhook`,
whose status is the answer (200 recorded, 401 bad or stale signature, 400 not a JSON array). Anything else:
404 for another path, 405 for another method, 411 without Content-Length, 413 above the size limit,
503 when the warehouse cannot be opened (SendGrid retries non-2xx answers for up to 24 hours).

DuckDB allows one writer per file, so the server never holds the warehouse open: the service opens a
session per request and closes it before answering, and serialises the sessions of this server's
threads. Between requests a `fingrowth run` or a launch can take the file; a request arriving while
another process holds it gets 503 and is retried by SendGrid.

Nothing about a request's content or origin is logged: no bodies, no e-mail addresses, no client IPs.
"""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from campaigns.campaign_errors import StoreUnavailable
from campaigns.service import CampaignService

DEFAULT_PATH = "/sendgrid/events"
# SendGrid posts batches of at most about 768 KB; anything far larger is not SendGrid.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

logger = logging.getLogger(__name__)


class WebhookServer(ThreadingHTTPServer):
    """A threading HTTP server that records signed SendGrid events into the warehouse."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], service: CampaignService,
                 path: str = DEFAULT_PATH, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if not service.verifies_webhooks:
            raise ValueError("the webhook needs SendGrid's verification public key (base64 DER)")
        if not path.startswith("/"):
            raise ValueError(f"the webhook path must start with '/', got {path!r}")
        if max_body_bytes < 1:
            raise ValueError("the body size limit must be positive")
        self.service = service
        self.webhook_path = path
        self.max_body_bytes = max_body_bytes
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        # socketserver's default prints the client address and a traceback to stderr.
        logger.error("webhook: connection error (details withheld)")

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def make_server(host: str, port: int, service: CampaignService, path: str = DEFAULT_PATH,
                max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> WebhookServer:
    """A bound, not yet serving, receiver; call `serve_forever()` (port 0 picks a free port)."""
    return WebhookServer((host, port), service, path, max_body_bytes)


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer
    protocol_version = "HTTP/1.1"
    server_version = "fingrowth-webhook"
    sys_version = ""

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != self.server.webhook_path:
            self._answer(404, close=True)
            return
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.strip().isdigit():
            self._answer(411, close=True)
            return
        length = int(length_header)
        if length > self.server.max_body_bytes:
            self._answer(413, close=True)
            return
        body = self.rfile.read(length)
        headers = {name: value for name, value in self.headers.items()}
        try:
            result = self.server.service.receive_webhook(body, headers)
        except StoreUnavailable:
            # Typically another process holds the warehouse; SendGrid retries non-2xx answers.
            logger.warning("webhook: warehouse unavailable; answering 503")
            self._answer(503, {"Retry-After": "60"})
            return
        except Exception as error:  # noqa: BLE001 - answer, and log the kind only: messages may quote event data
            logger.error("webhook: could not record the delivery (%s); answering 500", type(error).__name__)
            self._answer(500)
            return
        if result.status >= 400:
            logger.warning("webhook: rejected with %s: %s", result.status, result.reason)
        else:
            logger.info("webhook: %s new event(s), %s duplicate(s), %s suppression(s), %s batch(es) reconciled",
                        result.new_events, result.duplicates, result.suppressed, len(result.reconciled_batches))
        self._answer(result.status)

    def do_GET(self) -> None:
        self._not_allowed()

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _not_allowed(self) -> None:
        self._answer(405, {"Allow": "POST"}, close=True)

    def _answer(self, status: int, headers: dict[str, str] | None = None, close: bool = False) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        if close:
            # An unread body would otherwise be taken for the next request on this connection.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Only the method and status; never the client address, the query string or anything from the body.
        logger.info("webhook: %s -> %s", self.command, code)

    def log_message(self, format: str, *args: object) -> None:
        # http.server's default writes the client address to stderr; keep it out of every log.
        logger.debug("webhook: http.server message suppressed")
