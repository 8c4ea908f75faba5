"""`fingrowth campaign ...` and `fingrowth template ...`: thin callers of the campaign service.

Each command parses its arguments, builds the service from the settings (`pipelines.campaign_wiring`),
calls one method and prints the typed result. Who is acting comes from FINGROWTH_USER; the service looks
up their role in the roles file (FINGROWTH_ROLES, default config/roles.yaml) and checks it. Delivery
settings are documented in `pipelines.settings` and docs/campaigns.md.

Schedule: a campaign file's `send_at` is the instant every rule is judged for (ages, assessment expiry, quiet
hours, frequency caps). `launch` refuses before it unless `--now` (then it judges for, and sends, now), and
refuses a `send_at` further in the past than FINGROWTH_SEND_AT_GRACE_HOURS until it is re-planned; without
`send_at`, plan and launch judge for the moment they run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from campaigns.campaign_errors import (
    ApprovalError,
    BatchRequestError,
    CampaignMismatchError,
    ConfigFileError,
    DeliverySetupError,
    PermissionDenied,
    RolesFileError,
    ScheduleError,
    StaleScheduleError,
    StoreUnavailable,
)
from campaigns.service import CampaignService, LaunchRequest, PlanRequest
from pipelines.campaign_reports import (
    diff_lines,
    launch_lines,
    launch_problem,
    lint_lines,
    plan_lines,
    reconcile_lines,
    status_lines,
    template_show_lines,
)
from pipelines.campaign_wiring import campaign_service, setting_hint
from pipelines.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNKNOWN, EXIT_DENIED = 0, 1, 2, 3, 4
OUTCOME_EXIT = {"ok": EXIT_OK, "halted": EXIT_FAILED, "failed": EXIT_FAILED, "unknown": EXIT_UNKNOWN}


def add_campaign_commands(commands: argparse._SubParsersAction) -> None:
    """Register the `campaign` and `template` command groups on the main parser."""
    campaign = commands.add_parser("campaign", help="plan, launch, reconcile or inspect a campaign (dry run unless "
                                                    "--live)")
    actions = campaign.add_subparsers(dest="campaign_command", required=True)
    plan = actions.add_parser("plan", help="decide the audience through every rule and render samples; sends nothing")
    _common(plan)
    plan.set_defaults(handler=_guarded(_plan))
    launch = actions.add_parser("launch", help="send through SendGrid (e-mail) or export a vendor file (SMS, push) "
                                               "exactly once per person (dry run unless --live)")
    _common(launch)
    launch.add_argument("--live", action="store_true",
                        help="really send (e-mail: needs SENDGRID_API_KEY) or write the vendor files (SMS, push)")
    launch.add_argument("--now", action="store_true",
                        help="launch before the campaign's send_at (or for a stale one): judge every rule for now")
    launch.add_argument("--out", type=Path, default=None,
                        help="folder for SMS/push vendor files (default FINGROWTH_EXPORT_DIR or out/exports)")
    launch.add_argument("--resend-unknown", action="append", default=[], metavar="BATCH",
                        help="admin: requeue this unknown batch now (repeatable; refused when provider events show "
                             "it was accepted)")
    launch.add_argument("--retry-failed", action="append", default=[], metavar="BATCH",
                        help="admin: requeue this failed (4xx-rejected) batch after the cause was fixed (repeatable)")
    launch.set_defaults(handler=_guarded(_launch))
    reconcile = actions.add_parser("reconcile", help="settle open batches from SendGrid events; resend once, per "
                                                     "batch, those with no event after the reconcile wait")
    reconcile.add_argument("campaign_id", nargs="?", default=None, help="one campaign (default: every campaign)")
    reconcile.add_argument("--warehouse", type=Path, default=None)
    reconcile.set_defaults(handler=_guarded(_reconcile))
    status = actions.add_parser("status", help="each batch of a campaign: state, attempts, resends, provider evidence")
    status.add_argument("campaign_id")
    status.add_argument("--warehouse", type=Path, default=None)
    status.set_defaults(handler=_guarded(_status))

    template = commands.add_parser("template", help="submit, lint, show, diff, approve, reject or list templates")
    tactions = template.add_subparsers(dest="template_command", required=True)
    for name, helptext in (("submit", "register a template file for review"), ("lint", "lint a template file")):
        sub = tactions.add_parser(name, help=helptext)
        sub.add_argument("file", type=Path)
        sub.add_argument("--warehouse", type=Path, default=None)
        sub.set_defaults(handler=_guarded(_submit if name == "submit" else _lint))
    show = tactions.add_parser("show", help="a version rendered with sample values (subject, text, HTML as text), "
                                            "its status and lint findings")
    show.add_argument("template_id", nargs="?", default=None)
    show.add_argument("version", nargs="?", type=int, default=None)
    show.add_argument("--file", type=Path, default=None, help="show a template file instead of a registered version")
    show.add_argument("--warehouse", type=Path, default=None)
    show.set_defaults(handler=_guarded(_show))
    diff = tactions.add_parser("diff", help="what changed between two registered versions")
    diff.add_argument("template_id")
    diff.add_argument("version", type=int)
    diff.add_argument("--from", dest="against", type=int, default=None,
                      help="the version to compare with (default: the previous registered one)")
    diff.add_argument("--warehouse", type=Path, default=None)
    diff.set_defaults(handler=_guarded(_diff))
    for name in ("approve", "reject"):
        sub = tactions.add_parser(name, help=f"{name} a submitted template version (compliance)")
        sub.add_argument("template_id")
        sub.add_argument("version", type=int)
        sub.add_argument("--warehouse", type=Path, default=None)
        if name == "approve":
            sub.add_argument("--valid-days", type=int, default=90, help="days until the approval expires")
            sub.add_argument("--ack", action="append", default=[], metavar="FINDING",
                             help="acknowledge a REVIEW lint finding by its id, e.g. CN-PI-01.1 (repeatable; "
                                  "every REVIEW finding needs one)")
        else:
            sub.add_argument("--reason", required=True)
        sub.set_defaults(handler=_guarded(_approve if name == "approve" else _reject))
    listing = tactions.add_parser("list", help="every registered version with its status")
    listing.add_argument("--warehouse", type=Path, default=None)
    listing.set_defaults(handler=_guarded(_list))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="campaign YAML file")
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default data/fingrowth.duckdb)")
    parser.add_argument("--as-of", default=None, help="decision date YYYY-MM-DD (default: end of the data window)")


def _guarded(handler: Callable[[argparse.Namespace, Settings, CampaignService], int]):
    def run(args: argparse.Namespace) -> int:
        settings = Settings.from_env(warehouse=getattr(args, "warehouse", None))
        try:
            return handler(args, settings, campaign_service(settings))
        except PermissionDenied as denied:
            print(f"fingrowth: permission denied: {denied}", file=sys.stderr)
            return EXIT_DENIED
        except ScheduleError as early:
            print(f"fingrowth: error: campaign {early.source} is scheduled for {early.send_at.isoformat()}; launch at "
                  "or after that time, or pass --now to send now (every rule is then judged for now)", file=sys.stderr)
            return EXIT_FAILED
        except StaleScheduleError as stale:
            print(f"fingrowth: error: campaign {stale.source} is scheduled for {stale.send_at.isoformat()}, more than "
                  f"{stale.grace_hours:g} hour(s) ago (FINGROWTH_SEND_AT_GRACE_HOURS); set a new send_at and plan "
                  "again, or pass --now to judge every rule for now", file=sys.stderr)
            return EXIT_FAILED
        except StoreUnavailable as busy:
            print(f"fingrowth: error: {busy}; try again shortly", file=sys.stderr)
            return EXIT_FAILED
        except DeliverySetupError as missing:
            print(f"fingrowth: error: {missing} (set {setting_hint(missing.setting)})", file=sys.stderr)
            return EXIT_USAGE
        except RolesFileError as error:
            print(f"fingrowth: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        except (ApprovalError, BatchRequestError, ConfigFileError, CampaignMismatchError) as error:
            print(f"fingrowth: error: {error}", file=sys.stderr)
            return EXIT_FAILED
    return run


def _as_of(args: argparse.Namespace) -> date | None:
    return date.fromisoformat(args.as_of) if args.as_of else None


def _plan(args: argparse.Namespace, settings: Settings, service: CampaignService) -> int:
    result = service.plan(settings.user, PlanRequest(args.file, as_of=_as_of(args)))
    for line in plan_lines(result):
        print(line)
    return EXIT_OK


def _launch(args: argparse.Namespace, settings: Settings, service: CampaignService) -> int:
    request = LaunchRequest(args.file, live=args.live, send_now=args.now, as_of=_as_of(args), export_dir=args.out,
                            resend_unknown=tuple(args.resend_unknown), retry_failed=tuple(args.retry_failed))
    result = service.launch(settings.user, request)
    for line in launch_lines(result):
        print(line)
    problem = launch_problem(result)
    if problem:
        print(problem, file=sys.stderr)
    return OUTCOME_EXIT[result.outcome]


def _reconcile(args: argparse.Namespace, settings: Settings, service: CampaignService) -> int:
    result = service.reconcile(settings.user, args.campaign_id)
    for line in reconcile_lines(result):
        print(line)
    if result.unknown_batches:
        print(f"still unknown: {', '.join(result.unknown_batches)}", file=sys.stderr)
        return EXIT_UNKNOWN
    return EXIT_OK


def _status(args: argparse.Namespace, settings: Settings, service: CampaignService) -> int:
    status = service.campaign_status(settings.user, args.campaign_id)
    for line in status_lines(status):
        print(line)
    return EXIT_UNKNOWN if status.unknown else EXIT_OK


def _submit(args: argparse.Namespace, settings: Settings, service: CampaignService) -> int:
    result = service.submit_template(settings.user, args.file)
    if result.status == "unchanged":
        print(f"{result.template_key} sha256 {result.content_sha256} is already registered with this content")
    else:
        print(f"registered {result.template_key} sha256 {result.content_sha256} by {result.author}: {result.status}"
              + ("" if result.lint.passed else " (lint blocks it: fix the copy and submit a new version)"))
    for line in lint_lines(result.lint):
        print(line)
    return EXIT_OK if result.lint.passed else EXIT_FAILED


def _lint(args: argparse.Namespace, settings: Settings, service: CampaignService) -> int:
    report = service.lint_template(settings.user, args.file)
    for line in lint_lines(report):
        print(line)
    return EXIT_OK if report.passed else EXIT_FAILED


def _approve(args: argparse.Namespace, settings: Settings, service: CampaignService) -> int:
    result = service.approve_template(settings.user, args.template_id, args.version, valid_days=args.valid_days,
                                      acknowledged=tuple(args.ack))
    print(f"approved {result.template_key} by {result.approver} for {result.valid_days} days"
          + (f"; acknowledged {', '.join(result.acknowledged)}" if result.acknowledged else ""))
    return EXIT_OK


def _show(args: argparse.Namespace, settings: Settings, service: CampaignService) -> int:
    if args.file is None and (args.template_id is None or args.version is None):
        print("fingrowth: error: give TEMPLATE_ID VERSION of a registered version, or --file FILE", file=sys.stderr)
        return EXIT_USAGE
    review = service.show_template(settings.user, args.template_id, args.version, template_file=args.file)
    for line in template_show_lines(review):
        print(line)
    return EXIT_OK


def _diff(args: argparse.Namespace, settings: Settings, service: CampaignService) -> int:
    for line in diff_lines(service.diff_templates(settings.user, args.template_id, args.version, args.against)):
        print(line)
    return EXIT_OK


def _reject(args: argparse.Namespace, settings: Settings, service: CampaignService) -> int:
    result = service.reject_template(settings.user, args.template_id, args.version, args.reason)
    print(f"rejected {result.template_key} by {result.actor}: {result.reason}")
    return EXIT_OK


def _list(args: argparse.Namespace, settings: Settings, service: CampaignService) -> int:
    for row in service.list_templates(settings.user):
        status = row.status
        expires = f" expires {status.expires_at:%Y-%m-%d}" if status.expires_at else ""
        reason = f" reason: {status.reason}" if status.reason else ""
        print(f"{row.template_id}@{row.version} {status.status} author {row.author} "
              f"sha256 {row.content_sha256[:12]}{expires}{reason}")
    return EXIT_OK
