"""Plain-text reports of the campaign service's results, as the command line prints them and the send job logs them.

Counts, digests, template keys and batch states only: results carry no contact details and no keys.
"""

from __future__ import annotations

from campaigns.content.copy_lint import LintReport
from campaigns.service import LaunchResult, PlanResult


def lint_lines(report: LintReport) -> list[str]:
    lines = [f"lint {report.lint_version}: {'passed' if report.passed else 'BLOCKED'}"]
    return lines + [f"  {finding}" for finding in report.findings]


def plan_lines(result: PlanResult) -> list[str]:
    lines = [
        f"campaign {result.campaign_id}: channel {result.channel}; template {result.template_key} "
        f"({result.template_status}), rules {result.rule_version}",
        f"decided as of {result.as_of.isoformat()} for sending at {result.send_at.isoformat()}; plan {result.plan_id}; "
        "nothing sent",
        f"audience_sha256 {result.audience_sha256}",
        "decisions " + ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items())),
    ]
    if result.variants:
        lines.append("variants " + ", ".join(
            f"{arm.name} ({arm.template_key}, {arm.template_status}, weight {arm.weight:g}) send={arm.send}"
            for arm in result.variants))
    lines.append("funnel:")
    lines += [f"  {step.step:<12} remaining {step.remaining:>7}  excluded here {step.excluded:>7}  "
              f"failing {step.failing:>7}" for step in result.funnel]
    for sample in result.samples:
        lines += [f"sample for {sample.user_id}: {sample.subject}", "  " + sample.first_line]
    lines += [f"note: template {key} is {status}; launch needs an approved, unexpired version"
              for key, status in result.unapproved]
    return lines


def launch_lines(result: LaunchResult) -> list[str]:
    """What a launch did, line by line (standard output of `fingrowth campaign launch`)."""
    if result.exporting:
        mode = f"LIVE export to {result.export_dir}" if result.live else "dry run (no file written; add --live to export)"
    else:
        mode = "LIVE" if result.live else "dry run (nothing sent; add --live to send)"
    lines = [
        f"campaign {result.campaign_id}: {mode}; channel {result.channel}; template {result.template_key}; "
        f"send_at {result.send_at.isoformat()}; audience_sha256 {result.audience_sha256}",
        "decisions " + ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items())),
    ]
    if result.variants:
        lines.append("variants " + ", ".join(f"{arm.name}={arm.send}" for arm in result.variants))
    lines.append("batches " + ", ".join(f"{k}={v}" for k, v in sorted(result.batches.items())))
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
        return (f"{result.failed_batches} batch(es) were rejected by SendGrid and not retried; "
                "see campaigns.outbox")
    if result.outcome == "unknown":
        return (f"unknown outcome for batches {', '.join(result.unknown_batches)}: SendGrid may have accepted them. "
                "They are NOT resent automatically; a webhook event with their batch_key marks them accepted "
                "(`fingrowth campaign reconcile`), or an admin may requeue them with --resend-unknown.")
    return None
