"""`fingrowth console` (the web console) and `fingrowth user add|disable|list` (its accounts).

Accounts live in the campaign store. `user add` reads the password from the terminal (asked twice) or, when
standard input is not a terminal, from its first line; the acting admin is FINGROWTH_USER (an admin account or
an admin of the roles file). The very first account of a store must be an admin and needs no acting user.

Settings (environment): FINGROWTH_CONSOLE_SECRET (signs session cookies; default a random one per start),
FINGROWTH_CONSOLE_SESSION_HOURS, FINGROWTH_CONSOLE_IDLE_MINUTES, and those of the campaign service.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from campaigns.campaign_errors import AccountError, PermissionDenied, StoreUnavailable
from campaigns.definitions.roles_file import ROLES
from pipelines.campaign_wiring import campaign_service
from pipelines.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DENIED = 0, 1, 2, 4
DEFAULT_PORT = 8030


def add_console_commands(commands: argparse._SubParsersAction) -> None:
    """Register `console` and the `user` command group on the main parser."""
    console = commands.add_parser("console", help="serve the web console (marketers, compliance, analysts)")
    console.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; put a TLS "
                                                             "proxy in front for other machines)")
    console.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    console.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default data/fingrowth.duckdb)")
    console.add_argument("--https", action="store_true",
                         help="the console is reached over HTTPS (through a proxy): session cookies get Secure")
    console.set_defaults(handler=_serve)

    user = commands.add_parser("user", help="console accounts: add, disable, list")
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="create an account (password from the terminal or standard input)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=sorted(ROLES))
    add.add_argument("--warehouse", type=Path, default=None)
    add.set_defaults(handler=_add)
    disable = actions.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("name")
    disable.add_argument("--warehouse", type=Path, default=None)
    disable.set_defaults(handler=_disable)
    listing = actions.add_parser("list", help="every account with its role and state")
    listing.add_argument("--warehouse", type=Path, default=None)
    listing.set_defaults(handler=_list)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 - only the console needs the server

    from pipelines.console.app import console_from_settings  # noqa: PLC0415

    if not 0 <= args.port <= 65535:
        raise ValueError("--port must be within 0..65535")
    settings = Settings.from_env(warehouse=args.warehouse)
    app = console_from_settings(settings, https=args.https)
    if not settings.console_secret_key():
        print("fingrowth: FINGROWTH_CONSOLE_SECRET is not set: sessions are signed with a random key and end when "
              "the console stops", file=sys.stderr)
    print(f"console on http://{args.host}:{args.port}/ (Ctrl-C stops)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, server_header=False)
    return EXIT_OK


def _add(args: argparse.Namespace) -> int:
    password = _read_password()
    return _run(args, lambda service, user: service.add_account(user, args.name, args.role, password),
                lambda account: f"account {account.user_name} ({account.role}) added")


def _disable(args: argparse.Namespace) -> int:
    return _run(args, lambda service, user: service.disable_account(user, args.name),
                lambda ended: f"account {args.name} disabled; {ended} session(s) ended")


def _list(args: argparse.Namespace) -> int:
    def lines(accounts) -> str:
        rows = [f"{'name':<24} {'role':<11} state"]
        for account in accounts:
            state = "disabled" if account.disabled else ("locked" if account.locked_until else "active")
            rows.append(f"{account.user_name:<24} {account.role:<11} {state}")
        return "\n".join(rows)

    return _run(args, lambda service, user: service.list_accounts(user), lines)


def _run(args: argparse.Namespace, call, describe) -> int:
    settings = Settings.from_env(warehouse=args.warehouse)
    service = campaign_service(settings)
    try:
        result = call(service, settings.user)
    except PermissionDenied as denied:
        print(f"fingrowth: permission denied: {denied}", file=sys.stderr)
        return EXIT_DENIED
    except AccountError as refused:
        print(f"fingrowth: error: {refused}", file=sys.stderr)
        return EXIT_FAILED
    except StoreUnavailable as busy:
        print(f"fingrowth: error: {busy}; try again shortly", file=sys.stderr)
        return EXIT_FAILED
    finally:
        service.store.dispose()
    print(describe(result))
    return EXIT_OK


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise ValueError("the two passwords differ; nothing was changed")
        return first
    line = sys.stdin.readline()
    if not line:
        raise ValueError("no password on standard input")
    return line.rstrip("\r\n")
