"""A small HTTP receiver for the SendGrid Event Webhook (standard library only).

`POST <path>` with the signed JSON array is handed, byte for byte, to `CampaignService.receive_webhook`,
which verifies the signature before it opens any store; its status is the answer (200 recorded, 401 bad or
stale signature, 400 not a JSON array, 503 a store busy: SendGrid retries non-2xx answers for up to 24
hours). One malformed event of an authentic delivery is quarantined and the rest stored, answered 200.
Anything else: 404 for another path, 405 for another method, 411 without Content-Length, 413 above the size
limit, 408 when a client is too slow.

Events go to the operational campaign store (SQLite or Postgres), never to the warehouse, so the receiver
never holds DuckDB's write lock and an analytics run can always take it.

Slow or half-sent requests cannot pin a thread: every connection gets a socket timeout and a deadline for
its whole request (headers and body), after which it is closed; at most `max_connections` are handled at
once (more are closed at once), and every answer closes its connection.

Nothing about a request's content or origin is logged: no bodies, no e-mail addresses, no client IPs.
"""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from campaigns.campaign_errors import StoreUnavailable
from campaigns.service import CampaignService

DEFAULT_PATH = "/sendgrid/events"
# SendGrid posts batches of at most about 768 KB; anything far larger is not SendGrid.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_CONNECTIONS = 32

logger = logging.getLogger(__name__)


class WebhookServer(ThreadingHTTPServer):
    """A threading HTTP server that records signed SendGrid events into the campaign store."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], service: CampaignService, path: str = DEFAULT_PATH,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, read_timeout: float = DEFAULT_READ_TIMEOUT,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        if not service.verifies_webhooks:
            raise ValueError("the webhook needs SendGrid's verification public key (base64 DER)")
        if not path.startswith("/"):
            raise ValueError(f"the webhook path must start with '/', got {path!r}")
        if max_body_bytes < 1:
            raise ValueError("the body size limit must be positive")
        if read_timeout <= 0 or max_connections < 1:
            raise ValueError("the read timeout and the connection limit must be positive")
        self.service = service
        self.webhook_path = path
        self.max_body_bytes = max_body_bytes
        self.read_timeout = read_timeout
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, _Handler)

    def process_request(self, request, client_address) -> None:
        # Bounded threads: past the limit a connection is closed at once instead of waiting for a thread.
        if not self._slots.acquire(blocking=False):
            logger.warning("webhook: connection limit reached; closing a new connection")
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: object, client_address: object) -> None:
        # socketserver's default prints the client address and a traceback to stderr.
        logger.error("webhook: connection error (details withheld)")

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def make_server(host: str, port: int, service: CampaignService, path: str = DEFAULT_PATH,
                max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, read_timeout: float = DEFAULT_READ_TIMEOUT,
                max_connections: int = DEFAULT_MAX_CONNECTIONS) -> WebhookServer:
    """A bound, not yet serving, receiver; call `serve_forever()` (port 0 picks a free port)."""
    return WebhookServer((host, port), service, path, max_body_bytes, read_timeout, max_connections)


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer
    protocol_version = "HTTP/1.1"
    server_version = "fingrowth-webhook"
    sys_version = ""

    def setup(self) -> None:
        # Each read waits at most the timeout, and the whole request (headers and body) must arrive within it
        # too: a client trickling one byte at a time is cut off by the deadline.
        self.timeout = self.server.read_timeout
        super().setup()
        self._deadline = threading.Timer(self.server.read_timeout, self._expire)
        self._deadline.daemon = True
        self._deadline.start()

    def finish(self) -> None:
        self._deadline.cancel()
        try:
            super().finish()
        except OSError:
            pass

    def _expire(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (TimeoutError, ConnectionError, OSError):
            self.close_connection = True
        # One request per connection: nothing is kept open waiting for the next one.
        self.close_connection = True

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != self.server.webhook_path:
            self._answer(404)
            return
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.strip().isdigit():
            self._answer(411)
            return
        length = int(length_header)
        if length > self.server.max_body_bytes:
            self._answer(413)
            return
        try:
            body = self.rfile.read(length)
        except (TimeoutError, OSError):
            self.close_connection = True
            return
        if len(body) < length:
            self._answer(408)
            return
        self._deadline.cancel()  # the whole request arrived in time; answering is ours to do
        headers = {name: value for name, value in self.headers.items()}
        try:
            result = self.server.service.receive_webhook(body, headers)
        except StoreUnavailable:
            logger.warning("webhook: campaign store unavailable; answering 503")
            self._answer(503, {"Retry-After": "60"})
            return
        except Exception as error:  # noqa: BLE001 - answer, and log the kind only: messages may quote event data
            logger.error("webhook: could not record the delivery (%s); answering 500", type(error).__name__)
            self._answer(500)
            return
        if result.status >= 400:
            logger.warning("webhook: answered %s: %s", result.status, result.reason)
        else:
            logger.info("webhook: %s new event(s), %s duplicate(s), %s suppression(s), %s quarantined, "
                        "%s batch(es) settled", result.new_events, result.duplicates, result.suppressed,
                        result.quarantined, len(result.reconciled_batches))
        self._answer(result.status, {"Retry-After": "60"} if result.status == 503 else None)

    def do_GET(self) -> None:
        self._not_allowed()

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _not_allowed(self) -> None:
        self._answer(405, {"Allow": "POST"})

    def _answer(self, status: int, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            # An unread body would otherwise be taken for the next request on this connection.
            self.send_header("Connection", "close")
            self.close_connection = True
            self.end_headers()
        except OSError:
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Only the method and status; never the client address, the query string or anything from the body.
        logger.info("webhook: %s -> %s", self.command, code)

    def log_message(self, format: str, *args: object) -> None:
        # http.server's default writes the client address to stderr; keep it out of every log.
        logger.debug("webhook: http.server message suppressed")
