"""The `fingrowth` command line: sample data, analytics runs through Dagster, the demo, campaigns and templates,
the webhook receiver, and the web console with its accounts.

Each command parses its arguments, calls one function (analytics) or one campaign-service method, and
prints the result. Exit codes: 0 ok, 1 failed or blocked, 2 bad arguments or a missing file, 3 batches
with unknown outcome, 4 permission denied.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pipelines.cli.analytics_commands import add_analytics_commands
from pipelines.cli.campaign_commands import add_campaign_commands
from pipelines.cli.console_commands import add_console_commands
from pipelines.cli.webhook_commands import add_webhook_commands

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"fingrowth: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fingrowth", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add_analytics_commands(commands)
    add_campaign_commands(commands)
    add_webhook_commands(commands)
    add_console_commands(commands)
    return parser
