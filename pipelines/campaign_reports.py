"""Plain-text reports of the campaign service's results, as the command line prints them and the Dagster jobs
log them.

Counts, digests, template keys, batch states and rendered sample messages only: results carry no contact
details and no keys. Times are shown in the business time zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from campaigns.content.copy_lint import LintReport
from campaigns.service import (
    CampaignStatus,
    LaunchResult,
    PlanResult,
    ReconcileResult,
    TemplateDiff,
    TemplateReview,
)


def local(moment: datetime | None, timezone: str) -> str:
    """An instant as local time with its offset and zone, e.g. `2026-07-01 10:00:00+08:00 (Asia/Shanghai)`."""
    if moment is None:
        return "-"
    return f"{moment.astimezone(ZoneInfo(timezone)).isoformat(sep=' ', timespec='seconds')} ({timezone})"


def lint_lines(report: LintReport) -> list[str]:
    status = "passed" if report.passed else "BLOCKED"
    review = f"; {len(report.review)} REVIEW finding(s) to acknowledge at approval (--ack ID)" if report.review else ""
    lines = [f"lint {report.lint_version}: {status}{review}"]
    return lines + [f"  {finding}" for finding in report.findings]


def plan_lines(result: PlanResult) -> list[str]:
    zone = result.timezone
    lines = [
        f"campaign {result.campaign_id}: channel {result.channel}; template {result.template_key} "
        f"({result.template_status}), rules {result.rule_version}",
        f"decided as of {local(result.as_of, zone)} for sending at {local(result.send_at, zone)}; plan "
        f"{result.plan_id}; nothing sent",
        f"audience_sha256 {result.audience_sha256}",
        "decisions " + ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items())),
    ]
    if result.variants:
        lines.append("variants " + ", ".join(
            f"{arm.name} ({arm.template_key}, {arm.template_status}, weight {arm.weight:g}) send={arm.send}"
            for arm in result.variants))
    lines.append("funnel:")
    lines += [f"  {step.step:<14} remaining {step.remaining:>7}  excluded here {step.excluded:>7}  "
              f"failing {step.failing:>7}" for step in result.funnel]
    for sample in result.samples:
        lines.append(f"sample message for {sample.user_id}:")
        lines.append(f"  subject: {sample.subject}")
        lines += [f"  | {line}" for line in sample.text_body.splitlines()]
    lines += [f"note: template {key} is {status}; launch needs an approved, unexpired version"
              for key, status in result.unapproved]
    lines += [f"note: {note}" for note in result.notes]
    return lines


def launch_lines(result: LaunchResult) -> list[str]:
    """What a launch did, line by line (standard output of `fingrowth campaign launch`)."""
    if result.exporting:
        mode = f"LIVE export to {result.export_dir}" if result.live else "dry run (no file written; add --live to export)"
    else:
        mode = "LIVE" if result.live else "dry run (nothing sent; add --live to send)"
    lines = [
        f"campaign {result.campaign_id}: {mode}; channel {result.channel}; template {result.template_key}; "
        f"send_at {local(result.send_at, result.timezone)}; audience_sha256 {result.audience_sha256}",
        "decisions " + ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items())),
    ]
    if result.to_send == 0:
        reasons = ", ".join(f"{code}={people}" for code, people in result.reasons.items()) or "the audience is empty"
        lines.append(f"0 to send now: {reasons}")
    if result.variants:
        lines.append("variants " + ", ".join(f"{arm.name}={arm.send}" for arm in result.variants))
    lines.append("batches " + (", ".join(f"{k}={v}" for k, v in sorted(result.batches.items())) or "none"))
    done = "exported to vendor files" if result.exporting else "accepted by SendGrid"
    lines.append(f"recipients planned {result.recipients_planned}, {done} {result.recipients_delivered}, "
                 f"requests {result.requests}, {result.seconds:.2f}s")
    if result.skipped:
        lines.append("skipped " + ", ".join(f"{k}={v}" for k, v in sorted(result.skipped.items())))
    return lines


def launch_problem(result: LaunchResult) -> str | None:
    """Why a launch did not fully succeed (standard error of the command line), or None."""
    if result.outcome == "halted":
        return f"halted: {result.halted}"
    if result.outcome == "failed":
        return (f"{result.failed_batches} batch(es) were rejected by SendGrid (4xx) and are not retried; after a "
                "fix an admin may retry them with --retry-failed BATCH (see `fingrowth campaign status`)")
    if result.outcome == "unknown":
        return (f"unknown outcome for batches {', '.join(result.unknown_batches)}: SendGrid may have accepted them. "
                "A provider event with their batch_key settles them; without one, `fingrowth campaign reconcile` "
                "(also a Dagster sensor) resends each once after the reconcile wait. "
                "See `fingrowth campaign status`.")
    return None


def status_lines(status: CampaignStatus) -> list[str]:
    states = ", ".join(f"{k}={v}" for k, v in sorted(status.states.items())) or "no batches (not launched live)"
    lines = [f"campaign {status.campaign_id}: batches {states}",
             f"  {'batch':<10} {'state':<9} {'members':>7} {'tries':>5} {'resent':>6}  {'answer':<6} evidence"]
    for batch in status.batches:
        evidence = (f"{batch.events} event(s) ({batch.event_kinds}) first {local(batch.first_event_at, status.timezone)}"
                    if batch.events else "no provider event")
        answer = str(batch.last_status) if batch.last_status is not None else "-"
        lines.append(f"  {batch.batch_id:<10} {batch.state:<9} {batch.members:>7} {batch.attempts:>5} "
                     f"{batch.resends:>6}  {answer:<6} {evidence}"
                     + (f"; {batch.last_error}" if batch.last_error else ""))
    return lines


def reconcile_lines(result: ReconcileResult) -> list[str]:
    scope = f"campaign {result.campaign_id}" if result.campaign_id else "every campaign"
    lines = [f"reconciled {scope}: {len(result.reconciled_batches)} batch(es) accepted on provider evidence, "
             f"{len(result.resent_batches)} resent once, {len(result.unknown_batches)} still unknown"]
    for decision in result.decisions:
        lines.append(f"  {decision.campaign_id}/{decision.batch_id}: {decision.decision} ({decision.evidence})")
    lines += [f"note: {note}" for note in result.notes]
    return lines


def template_show_lines(review: TemplateReview) -> list[str]:
    shown = review.preview
    status = review.status.status + (f" by {review.status.actor}" if review.status.actor else "")
    if review.status.expires_at is not None:
        status += f", expires {review.status.expires_at:%Y-%m-%d}"
    lines = [f"template {shown.template_key} sha256 {shown.content_sha256}: {status}"
             + (f"; author {review.author}" if review.author else "")]
    lines += [f"  {name}: {value}" for name, value in shown.metadata]
    lines.append("sample values (made up): " + (", ".join(f"{k}={v}" for k, v in shown.sample_values) or "none"))
    lines.append(f"--- language {shown.language} ---")
    if shown.subject:
        lines.append(f"subject: {shown.subject}")
    lines.append("text body:")
    lines += [f"  | {line}" for line in shown.text_body.splitlines()]
    if shown.html_as_text:
        lines.append("html body (as text):")
        lines += [f"  | {line}" for line in shown.html_as_text.splitlines()]
    lines += lint_lines(review.lint)
    return lines


def diff_lines(diff: TemplateDiff) -> list[str]:
    if not diff.lines:
        return [f"{diff.from_key} and {diff.to_key} say the same"]
    return list(diff.lines)
