"""`fingrowth webhook serve`: receive SendGrid's signed Event Webhook into the campaign store.

Settings (environment): FINGROWTH_SENDGRID_WEBHOOK_PUBLIC_KEY (the verification key SendGrid shows for
the signed webhook, base64 DER; required, never printed), FINGROWTH_CAMPAIGN_DB (default beside
FINGROWTH_WAREHOUSE), FINGROWTH_WEBHOOK_READ_TIMEOUT, FINGROWTH_TIMEZONE.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from pipelines.campaign_wiring import campaign_service, setting_hint
from pipelines.settings import Settings
from pipelines.webhook_server import DEFAULT_MAX_BODY_BYTES, DEFAULT_PATH, make_server

EXIT_OK, EXIT_USAGE = 0, 2
DEFAULT_PORT = 8025


def add_webhook_commands(commands: argparse._SubParsersAction) -> None:
    """Register the `webhook` command group on the main parser."""
    webhook = commands.add_parser("webhook", help="receive SendGrid's signed Event Webhook")
    actions = webhook.add_subparsers(dest="webhook_command", required=True)
    serve = actions.add_parser(
        "serve", help="serve POST PATH: verify each delivery's signature, record events and suppressions")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; put a TLS proxy in front)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    serve.add_argument("--path", default=None, help=f"URL path SendGrid posts to (default {DEFAULT_PATH})")
    serve.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default data/fingrowth.duckdb)")
    serve.add_argument("--max-body-bytes", type=int, default=None,
                       help="larger requests are refused with 413 (default 4 MiB)")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env(warehouse=args.warehouse)
    if not settings.webhook_public_key():
        raise ValueError(f"set {setting_hint('sendgrid_webhook_public_key')} to the signed webhook's verification key "
                         "(base64 DER)")
    if not 0 <= args.port <= 65535:
        raise ValueError("--port must be within 0..65535")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    route = args.path or DEFAULT_PATH
    # Events go to the campaign store; the warehouse is only read, briefly, for an event without member_ref.
    server = make_server(args.host, args.port, campaign_service(settings), route,
                         args.max_body_bytes or DEFAULT_MAX_BODY_BYTES, read_timeout=settings.webhook_read_timeout)
    signal.signal(signal.SIGTERM, _stop)
    print(f"listening on {server.base_url}{route} (campaign store {server.service.store.display_url}); Ctrl-C stops",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("webhook server stopped", file=sys.stderr)
    return EXIT_OK


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # leave serve_forever() and close the socket, as on Ctrl-C
