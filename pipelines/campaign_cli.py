"""`fingrowth campaign ...` and `fingrowth template ...`: plan, launch, and maker-checker approval.

Who is acting comes from FINGROWTH_USER, their role from the roles file (FINGROWTH_ROLES, default
config/roles.yaml). Delivery settings come from the environment:
SENDGRID_API_KEY or FINGROWTH_SENDGRID_API_KEY (live sends only; never printed or stored),
FINGROWTH_SENDGRID_HOST (default https://api.sendgrid.com; e.g. https://api.eu.sendgrid.com),
FINGROWTH_SENDER_EMAIL, FINGROWTH_SENDER_NAME, FINGROWTH_SENDGRID_ASM_GROUP (unsubscribe group, required
for live sends), FINGROWTH_SENDGRID_BATCH_SIZE (≤ 1000), FINGROWTH_SENDGRID_TIMEOUT (seconds),
FINGROWTH_UNSUBSCRIBE_URL, FINGROWTH_EXPORT_DIR (SMS/push vendor files; default out/exports).

Schedule: a campaign file's `send_at` is the instant quiet hours and frequency caps are decided for.
`launch` refuses before it unless `--now` (then it decides for, and sends, now); without `send_at`, plan and
launch decide for the moment they run.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNKNOWN, EXIT_DENIED = 0, 1, 2, 3, 4


def sendgrid_api_key() -> str | None:
    """The SendGrid key from the environment (never logged or stored), or None."""
    return _env().sendgrid_key()


def _env():
    from pipelines.settings import Settings

    return Settings.from_env()


def add_campaign_commands(commands: argparse._SubParsersAction) -> None:
    """Register the `campaign` and `template` command groups on the main parser."""
    campaign = commands.add_parser("campaign", help="plan or launch a campaign (dry run unless --live)")
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
                        help="launch before the campaign's send_at: decide quiet hours and frequency caps for now")
    launch.add_argument("--out", type=Path, default=None,
                        help="folder for SMS/push vendor files (default FINGROWTH_EXPORT_DIR or out/exports)")
    launch.add_argument("--resend-unknown", action="store_true",
                        help="requeue batches whose outcome is unknown (admin only; may duplicate those messages)")
    launch.set_defaults(handler=_guarded(_launch))

    template = commands.add_parser("template", help="submit, lint, approve, reject or list message templates")
    tactions = template.add_subparsers(dest="template_command", required=True)
    for name, helptext in (("submit", "register a template file for review"), ("lint", "lint a template file")):
        sub = tactions.add_parser(name, help=helptext)
        sub.add_argument("file", type=Path)
        sub.add_argument("--warehouse", type=Path, default=None)
        sub.set_defaults(handler=_guarded(_submit if name == "submit" else _lint))
    for name in ("approve", "reject"):
        sub = tactions.add_parser(name, help=f"{name} a submitted template version (compliance)")
        sub.add_argument("template_id")
        sub.add_argument("version", type=int)
        sub.add_argument("--warehouse", type=Path, default=None)
        if name == "approve":
            sub.add_argument("--valid-days", type=int, default=90, help="days until the approval expires")
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


def _guarded(handler):
    def run(args: argparse.Namespace) -> int:
        from campaigns.errors import CampaignMismatchError, ConfigFileError
        from campaigns.registry import ApprovalError, PermissionDenied

        try:
            return handler(args)
        except PermissionDenied as denied:
            print(f"fingrowth: permission denied: {denied}", file=sys.stderr)
            return EXIT_DENIED
        except (ApprovalError, ConfigFileError, CampaignMismatchError) as error:
            print(f"fingrowth: error: {error}", file=sys.stderr)
            return EXIT_FAILED
    return run


def _actor(action: str):
    from campaigns.registry import PermissionDenied, load_roles, require, resolve_actor

    settings = _env()
    path = settings.roles
    if not path.is_file():
        raise PermissionDenied(f"no roles file ({path}); set FINGROWTH_ROLES")
    actor = resolve_actor(settings.user, load_roles(path))
    require(actor, action)
    return actor


def _connect(args: argparse.Namespace):
    from pipelines.settings import Settings
    from warehouse import connect

    settings = Settings.from_env()
    path = args.warehouse or settings.warehouse
    if not Path(path).is_file():
        raise FileNotFoundError(f"warehouse {path} does not exist; run `fingrowth run` first")
    return connect(path, settings.timezone), settings.timezone


def _campaign_and_template(conn, path: Path, require_approved: bool):
    """The campaign, its main template, the main template's status, and every variant's template and status.

    Launch needs every variant approved (approval already required a clean lint); plan only reports status.
    """
    from campaigns import load_campaign

    campaign = load_campaign(path)
    main, status = _template(conn, campaign.template_id, campaign.template_version, require_approved)
    variants = {}
    statuses = {}
    for arm in campaign.variants:
        variants[arm.name], statuses[arm.name] = _template(conn, arm.template_id, arm.template_version, require_approved)
    return campaign, main, status, variants, statuses


def _template(conn, template_id: str, version: int, require_approved: bool):
    from campaigns import load_template, template_path
    from campaigns.registry import (
        approved_template,
        registered_template,
        template_status,
    )

    if require_approved:
        return approved_template(conn, template_id, version), "approved"
    status = template_status(conn, template_id, version)["status"]
    if status != "unregistered":
        return registered_template(conn, template_id, version)[0], status
    return load_template(template_path(template_id, version)), "unregistered"


def _send_instant(campaign, launch_now: bool) -> datetime:
    """The instant quiet hours and frequency caps are decided for (see the module docstring)."""
    now = datetime.now(UTC)
    if campaign.send_at is None or launch_now:
        return now
    return campaign.send_at.astimezone(UTC)


def _as_of(conn, args: argparse.Namespace, zone: str) -> datetime:
    from campaigns.launch import default_as_of

    if not args.as_of:
        return default_as_of(conn)
    day = datetime.fromisoformat(args.as_of).date()
    return datetime.combine(day, time(23, 59, 59), ZoneInfo(zone)).astimezone(UTC)


def _plan(args: argparse.Namespace) -> int:
    from campaigns.launch import plan_campaign

    actor = _actor("campaign.plan")
    conn, zone = _connect(args)
    with conn:
        campaign, template, status, variants, statuses = _campaign_and_template(conn, args.file, require_approved=False)
        plan = plan_campaign(conn, campaign, template, actor.user, _as_of(conn, args, zone),
                             _env().unsubscribe_url, "plan", zone,
                             send_at=_send_instant(campaign, launch_now=False), variant_templates=variants)
    print(f"campaign {campaign.campaign_id}: channel {campaign.channel}; template {template.key} ({status}), "
          f"rules {plan.result.rule_version}")
    print(f"decided as of {plan.as_of.isoformat()} for sending at {plan.send_at.isoformat()}; plan {plan.plan_id}; "
          "nothing sent")
    print(f"audience_sha256 {plan.audience_sha256}")
    print("decisions " + ", ".join(f"{k}={v}" for k, v in sorted(plan.counts.items())))
    if campaign.variants:
        print("variants " + ", ".join(
            f"{arm.name} ({variants[arm.name].key}, {statuses[arm.name]}, weight {arm.weight:g}) "
            f"send={plan.variant_counts.get(arm.name, 0)}" for arm in campaign.variants))
    print("funnel:")
    for step, remaining, excluded, failing in plan.result.funnel.iter_rows():
        print(f"  {step:<12} remaining {remaining:>7}  excluded here {excluded:>7}  failing {failing:>7}")
    for row in plan.result.messages.head(2).iter_rows(named=True):
        print(f"sample for {row['user_id']}: {row['subject']}")
        print("  " + row["text_body"].strip().splitlines()[0])
    unapproved = {template.key: status, **{variants[n].key: st for n, st in statuses.items()}}
    for key, state in sorted(unapproved.items()):
        if state != "approved":
            print(f"note: template {key} is {state}; launch needs an approved, unexpired version")
    return EXIT_OK


def _launch(args: argparse.Namespace) -> int:
    from campaigns import load_campaign
    from campaigns.delivery import deliver
    from campaigns.export import export_batches
    from campaigns.launch import eligible_people, plan_campaign

    actor = _actor("campaign.launch")
    if args.resend_unknown:
        _actor("campaign.resend_unknown")
    scheduled = load_campaign(args.file).send_at
    if scheduled is not None and not args.now and datetime.now(UTC) < scheduled:
        print(f"fingrowth: error: campaign {args.file} is scheduled for {scheduled.isoformat()}; launch at or after "
              "that time, or pass --now to send now (quiet hours and frequency caps are then decided for now)",
              file=sys.stderr)
        return EXIT_FAILED
    api_key = sendgrid_api_key()
    conn, zone = _connect(args)
    with conn:
        campaign, template, _, variants, _ = _campaign_and_template(conn, args.file, require_approved=True)
        exporting = campaign.channel != "email"
        config = _sender_config(template, args.live and not exporting)
        plan = plan_campaign(conn, campaign, template, actor.user, _as_of(conn, args, zone),
                             config.unsubscribe_base_url, "launch", zone,
                             send_at=_send_instant(campaign, args.now), variant_templates=variants)
        if exporting:
            out_dir = args.out or _env().export_dir
            report = export_batches(conn, campaign_id=campaign.campaign_id, channel=campaign.channel, template=template,
                                    eligible=eligible_people(plan, conn), out_dir=out_dir, actor=actor.user,
                                    live=args.live, batch_size=config.batch_size,
                                    unsubscribe_base_url=config.unsubscribe_base_url, variant_templates=variants,
                                    send_instant=plan.send_at)
        else:
            report = deliver(conn, campaign_id=campaign.campaign_id, template=template,
                             eligible=eligible_people(plan, conn), config=config, actor=actor.user,
                             api_key=api_key if args.live else None, live=args.live,
                             resend_unknown=args.resend_unknown, variant_templates=variants, send_instant=plan.send_at)
    if exporting:
        mode = f"LIVE export to {out_dir}" if args.live else "dry run (no file written; add --live to export)"
    else:
        mode = "LIVE" if args.live else "dry run (nothing sent; add --live to send)"
    print(f"campaign {campaign.campaign_id}: {mode}; channel {campaign.channel}; template {template.key}; "
          f"send_at {plan.send_at.isoformat()}; audience_sha256 {plan.audience_sha256}")
    print("decisions " + ", ".join(f"{k}={v}" for k, v in sorted(plan.counts.items())))
    if campaign.variants:
        print("variants " + ", ".join(f"{name}={plan.variant_counts.get(name, 0)}" for name in
                                      (arm.name for arm in campaign.variants)))
    print("batches " + ", ".join(f"{k}={v}" for k, v in sorted(report.batches.items())))
    done = "exported to vendor files" if exporting else "accepted by SendGrid"
    print(f"recipients planned {report.recipients_planned}, {done} {report.recipients_accepted}, "
          f"requests {report.requests}, {report.seconds:.2f}s")
    if report.skipped:
        print("skipped " + ", ".join(f"{k}={v}" for k, v in sorted(report.skipped.items())))
    if report.halted:
        print(f"halted: {report.halted}", file=sys.stderr)
        return EXIT_FAILED
    if report.batches.get("failed"):
        print(f"{report.batches['failed']} batch(es) were rejected by SendGrid and not retried; see campaigns.outbox",
              file=sys.stderr)
        return EXIT_FAILED
    if report.unknown_batches:
        print(f"unknown outcome for batches {', '.join(report.unknown_batches)}: SendGrid may have accepted them. "
              "They are NOT resent automatically; a webhook event with their batch_key marks them accepted, or "
              "an admin may requeue them with --resend-unknown.", file=sys.stderr)
        return EXIT_UNKNOWN
    return EXIT_OK


def _sender_config(template, live: bool):
    from campaigns.delivery import SenderConfig

    settings = _env()
    if live and not settings.sendgrid_asm_group:
        raise ValueError("a live send needs FINGROWTH_SENDGRID_ASM_GROUP (the unsubscribe group)")
    return SenderConfig(
        from_email=settings.sender_email,
        from_name=settings.sender_name or template.sender_legal_name,
        asm_group_id=int(settings.sendgrid_asm_group or 0),
        host=settings.sendgrid_host,
        batch_size=settings.sendgrid_batch_size,
        timeout_seconds=settings.sendgrid_timeout,
        unsubscribe_base_url=settings.unsubscribe_url,
    )


def _submit(args: argparse.Namespace) -> int:
    from campaigns.registry import submit_template

    actor = _actor("template.submit")
    data = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    conn, _ = _connect(args)
    with conn:
        template, report = submit_template(conn, actor, data)
    print(f"registered {template.key} sha256 {template.content_sha256} by {actor.user}")
    _print_findings(report)
    return EXIT_OK if report.passed else EXIT_FAILED


def _lint(args: argparse.Namespace) -> int:
    from campaigns import load_template
    from campaigns.lint import lint_template

    _actor("template.lint")
    report = lint_template(load_template(args.file))
    _print_findings(report)
    return EXIT_OK if report.passed else EXIT_FAILED


def _print_findings(report) -> None:
    print(f"lint {report.lint_version}: {'passed' if report.passed else 'BLOCKED'}")
    for finding in report.findings:
        print(f"  {finding}")


def _approve(args: argparse.Namespace) -> int:
    from campaigns.registry import approve_template

    actor = _actor("template.approve")
    conn, _ = _connect(args)
    with conn:
        approve_template(conn, actor, args.template_id, args.version, valid_days=args.valid_days)
    print(f"approved {args.template_id}@{args.version} by {actor.user} for {args.valid_days} days")
    return EXIT_OK


def _reject(args: argparse.Namespace) -> int:
    from campaigns.registry import reject_template

    actor = _actor("template.reject")
    conn, _ = _connect(args)
    with conn:
        reject_template(conn, actor, args.template_id, args.version, args.reason)
    print(f"rejected {args.template_id}@{args.version} by {actor.user}: {args.reason}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from campaigns.registry import list_templates

    _actor("template.list")
    conn, _ = _connect(args)
    with conn:
        rows = list_templates(conn)
    for row in rows:
        expires = f" expires {row['expires_at']:%Y-%m-%d}" if row.get("expires_at") else ""
        reason = f" reason: {row['reason']}" if row.get("reason") else ""
        print(f"{row['template_id']}@{row['version']} {row['status']} author {row['author']} "
              f"sha256 {row['content_sha256'][:12]}{expires}{reason}")
    return EXIT_OK
