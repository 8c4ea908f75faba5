"""The campaign use cases as one service: submit, lint, approve, reject and list templates; plan, launch and
reconcile campaigns; receive provider webhook events.

Callers (the command line, the Dagster send job, the webhook server, a console) name the acting user and
pass typed requests; they get typed, frozen results back and never touch a table. The service resolves
the user's role from its role directory and checks every permission, maker-checker rule and approval
itself, and writes the audit trail. Configuration comes in as typed objects: the service reads no
environment and no settings file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from campaigns.campaign_errors import DeliverySetupError, ScheduleError, StoreUnavailable
from campaigns.content.copy_lint import LintReport, lint_template
from campaigns.definitions.campaign_file import Campaign, load_campaign
from campaigns.definitions.shipped_library import template_path
from campaigns.definitions.template_file import Template, load_template, load_template_definition
from campaigns.delivery.outbox_ledger import LaunchReport, unknown_batches
from campaigns.delivery.plan_records import Plan, default_as_of, eligible_people, plan_campaign
from campaigns.delivery.provider_events import IngestResult, authentic_events, reconcile_unknown_batches, record_events
from campaigns.delivery.sendgrid_email import SenderConfig, deliver
from campaigns.delivery.vendor_export import export_batches
from campaigns.governance.access import Actor, RoleDirectory, require, resolve_actor
from campaigns.governance.audit_trail import audit
from campaigns.governance.template_approvals import (
    DEFAULT_APPROVAL_DAYS,
    RegisteredTemplate,
    approve_template,
    approved_template,
    list_templates,
    registered_template,
    reject_template,
    submit_template,
    template_status,
)

Warehouse = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
ClientFactory = Callable[[str, SenderConfig], Any]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeliveryOptions:
    """How messages leave: the SendGrid sender and limits, the unsubscribe link, the vendor-file folder.

    The API key is not here: it is handed to the service separately and never kept in a value that
    could be printed.
    """

    sender_email: str = "marketing@example.com"
    # None: the template's sender legal name.
    sender_name: str | None = None
    # SendGrid unsubscribe group; a live e-mail send needs one.
    asm_group: int | None = None
    host: str = "https://api.sendgrid.com"
    batch_size: int = 1000
    timeout_seconds: float = 10.0
    unsubscribe_url: str = "https://example.com/unsubscribe"
    export_dir: Path = Path("out/exports")


@dataclass(frozen=True)
class PlanRequest:
    """Decide a campaign file's audience and record the plan; nothing is sent."""

    campaign_file: Path
    # Decide with what the data knew at the end of this local day (default: the end of the data window).
    as_of: date | None = None


@dataclass(frozen=True)
class LaunchRequest:
    """Launch a campaign file: decide again, then send (e-mail) or export (SMS, push); a dry run unless `live`."""

    campaign_file: Path
    live: bool = False
    # Launch before the campaign's `send_at`, deciding quiet hours and frequency caps for now.
    send_now: bool = False
    as_of: date | None = None
    # Folder for SMS/push vendor files (default: the delivery options' export folder).
    export_dir: Path | None = None
    # Requeue batches whose outcome is unknown (admin only; may duplicate those messages).
    resend_unknown: bool = False


@dataclass(frozen=True)
class SubmitResult:
    """A registered template version (possibly renumbered: an edit becomes the next version) and its lint."""

    template_key: str
    content_sha256: str
    author: str
    lint: LintReport


@dataclass(frozen=True)
class ApprovalResult:
    template_key: str
    approver: str
    valid_days: int
    expires_at: datetime
    lint: LintReport


@dataclass(frozen=True)
class RejectionResult:
    template_key: str
    actor: str
    reason: str


@dataclass(frozen=True)
class ArmResult:
    """One A/B variant of a plan or launch: its template, that template's status, weight and `send` count."""

    name: str
    template_key: str
    template_status: str
    weight: float
    send: int


@dataclass(frozen=True)
class FunnelStep:
    step: str
    remaining: int
    excluded: int
    failing: int


@dataclass(frozen=True)
class MessageSample:
    """A rendered message of the plan, for a person to read: subject and first line (no contact details)."""

    user_id: str
    subject: str
    first_line: str


@dataclass(frozen=True)
class PlanResult:
    campaign_id: str
    channel: str
    template_key: str
    template_status: str
    rule_version: str
    plan_id: str
    as_of: datetime
    send_at: datetime
    audience_sha256: str
    counts: Mapping[str, int]
    variants: tuple[ArmResult, ...]
    funnel: tuple[FunnelStep, ...]
    samples: tuple[MessageSample, ...]
    # (template key, status) of every template of the campaign that is not approved: launch would refuse.
    unapproved: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class LaunchResult:
    campaign_id: str
    channel: str
    template_key: str
    live: bool
    # Where vendor files go (SMS, push); None for e-mail.
    export_dir: Path | None
    send_at: datetime
    audience_sha256: str
    counts: Mapping[str, int]
    variants: tuple[ArmResult, ...]
    batches: Mapping[str, int]
    recipients_planned: int
    # Accepted by SendGrid (e-mail) or written to vendor files (SMS, push).
    recipients_delivered: int
    requests: int
    seconds: float
    skipped: Mapping[str, int]
    unknown_batches: tuple[str, ...]
    halted: str | None

    @property
    def exporting(self) -> bool:
        return self.channel != "email"

    @property
    def failed_batches(self) -> int:
        return int(self.batches.get("failed", 0))

    @property
    def outcome(self) -> str:
        """`halted`, `failed` (batches rejected), `unknown` (batches with unknown outcome) or `ok`."""
        if self.halted:
            return "halted"
        if self.failed_batches:
            return "failed"
        return "unknown" if self.unknown_batches else "ok"


@dataclass(frozen=True)
class ReconcileResult:
    campaign_id: str
    # Unknown batches that stored provider events prove SendGrid accepted; now `accepted`.
    reconciled_batches: tuple[str, ...]
    # Batches still without evidence either way.
    unknown_batches: tuple[str, ...]


@dataclass(frozen=True)
class _Templates:
    """A campaign's main template and its variants' templates, each with its registry status."""

    main: Template
    main_status: str
    variants: dict[str, Template]
    statuses: dict[str, str]


class CampaignService:
    """Every campaign use case, with permissions, approvals and the audit trail enforced inside."""

    def __init__(
        self,
        warehouse: Warehouse,
        roles: RoleDirectory,
        delivery: DeliveryOptions | None = None,
        timezone: str = "Asia/Shanghai",
        sendgrid_api_key: str | None = None,
        webhook_public_key: str | None = None,
        sendgrid_client_factory: ClientFactory | None = None,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Build the service.

        Args:
            warehouse: Opens a warehouse session (a context manager yielding a connection, closed at exit).
            roles: Where each user's role comes from.
            delivery: Sender, limits and folders for launches.
            timezone: The business time zone (ages, `as_of` days).
            sendgrid_api_key: For live e-mail sends only; never stored, logged or put in a result.
            webhook_public_key: SendGrid's signed-webhook verification key (base64 DER), for `receive_webhook`.
            sendgrid_client_factory: Builds the SendGrid client (default: the real one).
            clock: The current instant (tz-aware).
            sleep: Waits between rate-limited retries.
        """
        ZoneInfo(timezone)  # an unknown zone fails here, not at the first plan
        self._warehouse = warehouse
        self._roles = roles
        self._delivery = delivery or DeliveryOptions()
        self._timezone = timezone
        self._api_key = sendgrid_api_key
        self._webhook_key = webhook_public_key
        self._client_factory = sendgrid_client_factory
        self._clock = clock
        self._sleep = sleep
        # DuckDB allows one writer per file; the threads of one process (a web server) take turns.
        self._lock = threading.RLock()

    @property
    def verifies_webhooks(self) -> bool:
        """Whether the service holds a webhook verification key (`receive_webhook` needs one)."""
        return bool(self._webhook_key)

    # Templates.

    def submit_template(self, user: str | None, template_file: Path) -> SubmitResult:
        """Register a template file for review; an edit of a registered version becomes the next version."""
        actor = self._actor(user, "template.submit")
        definition = load_template_definition(template_file)
        with self._session() as conn:
            template, report = submit_template(conn, actor, definition, now=self._clock())
        return SubmitResult(template.key, template.content_sha256, actor.user, report)

    def lint_template(self, user: str | None, template_file: Path) -> LintReport:
        """Lint a template file against its jurisdiction's lint pack; nothing is recorded."""
        self._actor(user, "template.lint")
        return lint_template(load_template(template_file))

    def approve_template(self, user: str | None, template_id: str, version: int,
                         valid_days: int = DEFAULT_APPROVAL_DAYS) -> ApprovalResult:
        """Approve a submitted version: never by its author, never with a blocking lint finding."""
        actor = self._actor(user, "template.approve")
        now = self._clock()
        with self._session() as conn:
            report = approve_template(conn, actor, template_id, version, valid_days=valid_days, now=now)
        return ApprovalResult(f"{template_id}@{version}", actor.user, valid_days, now + timedelta(days=valid_days),
                              report)

    def reject_template(self, user: str | None, template_id: str, version: int, reason: str) -> RejectionResult:
        """Reject a registered version with a reason."""
        actor = self._actor(user, "template.reject")
        with self._session() as conn:
            reject_template(conn, actor, template_id, version, reason, now=self._clock())
        return RejectionResult(f"{template_id}@{version}", actor.user, reason)

    def list_templates(self, user: str | None) -> tuple[RegisteredTemplate, ...]:
        """Every registered template version with its status."""
        self._actor(user, "template.list")
        with self._session() as conn:
            return tuple(list_templates(conn, self._clock()))

    # Campaigns.

    def plan(self, user: str | None, request: PlanRequest) -> PlanResult:
        """Decide every audience member through every rule and record the plan; nothing is sent.

        Templates of any status are used (an unregistered one from the shipped library), and the result
        names those that are not approved.
        """
        actor = self._actor(user, "campaign.plan")
        with self._session() as conn:
            campaign = load_campaign(request.campaign_file)
            templates = self._templates(conn, campaign, approved_only=False)
            plan = plan_campaign(conn, campaign, templates.main, actor.user, self._as_of(conn, request.as_of),
                                 self._delivery.unsubscribe_url, "plan", self._timezone,
                                 send_at=self._send_instant(campaign, send_now=False),
                                 variant_templates=templates.variants)
        return self._plan_result(campaign, templates, plan)

    def launch(self, user: str | None, request: LaunchRequest) -> LaunchResult:
        """Decide again at send time, record the launch, then send (e-mail) or export (SMS, push).

        Raises:
            PermissionDenied: the user may not launch (or requeue unknown batches).
            ScheduleError: the campaign's `send_at` is still ahead and `send_now` was not asked for.
            DeliverySetupError: a live e-mail send without an API key or unsubscribe group.
            ApprovalError: a template of the campaign is not approved and unexpired.
        """
        actor = self._actor(user, "campaign.launch")
        if request.resend_unknown:
            require(actor, "campaign.resend_unknown")
        campaign = load_campaign(request.campaign_file)
        if campaign.send_at is not None and not request.send_now and self._clock() < campaign.send_at:
            raise ScheduleError(request.campaign_file, campaign.send_at)
        exporting = campaign.channel != "email"
        if request.live and not exporting:
            self._require_live_email_setup()
        with self._session() as conn:
            templates = self._templates(conn, campaign, approved_only=True)
            config = self._sender_config(templates.main)
            plan = plan_campaign(conn, campaign, templates.main, actor.user, self._as_of(conn, request.as_of),
                                 config.unsubscribe_base_url, "launch", self._timezone,
                                 send_at=self._send_instant(campaign, request.send_now),
                                 variant_templates=templates.variants)
            eligible = eligible_people(plan, conn)
            out_dir = (request.export_dir or self._delivery.export_dir) if exporting else None
            if exporting:
                report = export_batches(conn, campaign_id=campaign.campaign_id, channel=campaign.channel,
                                        template=templates.main, eligible=eligible, out_dir=out_dir, actor=actor.user,
                                        live=request.live, batch_size=config.batch_size,
                                        unsubscribe_base_url=config.unsubscribe_base_url,
                                        variant_templates=templates.variants, send_instant=plan.send_at)
            else:
                report = deliver(conn, campaign_id=campaign.campaign_id, template=templates.main, eligible=eligible,
                                 config=config, actor=actor.user, api_key=self._api_key if request.live else None,
                                 live=request.live, resend_unknown=request.resend_unknown, sleep=self._sleep,
                                 client_factory=self._client_factory, variant_templates=templates.variants,
                                 send_instant=plan.send_at)
        return self._launch_result(campaign, templates, plan, report, out_dir)

    def reconcile(self, user: str | None, campaign_id: str) -> ReconcileResult:
        """Resolve a campaign's `unknown` batches from the provider events already stored (audited)."""
        actor = self._actor(user, "campaign.reconcile")
        with self._session() as conn:
            reconciled = reconcile_unknown_batches(conn, campaign_id, actor.user)
            remaining = unknown_batches(conn, campaign_id)
            audit(conn, actor.user, "campaign.reconcile", campaign_id,
                  {"reconciled_batches": reconciled, "unknown_batches": remaining}, self._clock())
        return ReconcileResult(campaign_id, tuple(reconciled), tuple(remaining))

    # Provider events.

    def receive_webhook(self, body: bytes, headers: Mapping[str, str]) -> IngestResult:
        """Verify one signed SendGrid Event Webhook delivery and record its events once.

        The signature is checked before the warehouse is opened, so a forged or stale request touches
        nothing. The result's `status` is the HTTP answer (200 recorded, 401 refused, 400 not an array).

        Raises:
            DeliverySetupError: the service was built without a verification key.
            StoreUnavailable: the warehouse cannot be opened now (the provider retries later).
        """
        if not self._webhook_key:
            raise DeliverySetupError("sendgrid_webhook_public_key",
                                     "receiving webhook events needs SendGrid's verification public key")
        events = authentic_events(body, headers, self._webhook_key, now=self._clock().timestamp())
        if isinstance(events, IngestResult):
            return events
        with self._session() as conn:
            return record_events(conn, events)

    # Internals.

    def _actor(self, user: str | None, action: str) -> Actor:
        actor = resolve_actor(user, self._roles)
        require(actor, action)
        return actor

    @contextmanager
    def _session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock, ExitStack() as stack:
            try:
                conn = stack.enter_context(self._warehouse())
            except duckdb.IOException as error:
                raise StoreUnavailable(f"the warehouse cannot be opened now ({type(error).__name__})") from error
            yield conn

    def _templates(self, conn: duckdb.DuckDBPyConnection, campaign: Campaign, approved_only: bool) -> _Templates:
        """The main and variant templates: approved and unexpired for a launch, any status for a plan."""
        main, status = self._template(conn, campaign.template_id, campaign.template_version, approved_only)
        arms = {arm.name: self._template(conn, arm.template_id, arm.template_version, approved_only)
                for arm in campaign.variants}
        return _Templates(main, status, {name: template for name, (template, _) in arms.items()},
                          {name: arm_status for name, (_, arm_status) in arms.items()})

    def _template(self, conn: duckdb.DuckDBPyConnection, template_id: str, version: int,
                  approved_only: bool) -> tuple[Template, str]:
        now = self._clock()
        if approved_only:
            return approved_template(conn, template_id, version, now), "approved"
        status = template_status(conn, template_id, version, now).status
        if status != "unregistered":
            return registered_template(conn, template_id, version)[0], status
        return load_template(template_path(template_id, version)), "unregistered"

    def _send_instant(self, campaign: Campaign, send_now: bool) -> datetime:
        """The instant quiet hours and frequency caps are decided for: `send_at`, unless sending now."""
        if campaign.send_at is None or send_now:
            return self._clock().astimezone(UTC)
        return campaign.send_at.astimezone(UTC)

    def _as_of(self, conn: duckdb.DuckDBPyConnection, day: date | None) -> datetime:
        """What the data knows: the end of the given local day, else the end of the data window."""
        if day is None:
            return default_as_of(conn)
        return datetime.combine(day, clock_time(23, 59, 59), ZoneInfo(self._timezone)).astimezone(UTC)

    def _require_live_email_setup(self) -> None:
        if not self._api_key:
            raise DeliverySetupError("sendgrid_api_key", "a live e-mail send needs a SendGrid API key; nothing was sent")
        if not self._delivery.asm_group:
            raise DeliverySetupError("sendgrid_asm_group",
                                     "a live e-mail send needs a SendGrid unsubscribe group (ASM group); nothing was sent")

    def _sender_config(self, template: Template) -> SenderConfig:
        options = self._delivery
        return SenderConfig(
            from_email=options.sender_email,
            from_name=options.sender_name or template.sender_legal_name,
            asm_group_id=int(options.asm_group or 0),
            host=options.host,
            batch_size=options.batch_size,
            timeout_seconds=options.timeout_seconds,
            unsubscribe_base_url=options.unsubscribe_url,
        )

    @staticmethod
    def _arms(campaign: Campaign, templates: _Templates, counts: Mapping[str, int]) -> tuple[ArmResult, ...]:
        return tuple(ArmResult(arm.name, templates.variants[arm.name].key, templates.statuses[arm.name], arm.weight,
                               int(counts.get(arm.name, 0))) for arm in campaign.variants)

    def _plan_result(self, campaign: Campaign, templates: _Templates, plan: Plan) -> PlanResult:
        statuses = {templates.main.key: templates.main_status,
                    **{templates.variants[name].key: status for name, status in templates.statuses.items()}}
        return PlanResult(
            campaign_id=campaign.campaign_id, channel=campaign.channel, template_key=templates.main.key,
            template_status=templates.main_status, rule_version=plan.result.rule_version, plan_id=plan.plan_id,
            as_of=plan.as_of, send_at=plan.send_at, audience_sha256=plan.audience_sha256, counts=dict(plan.counts),
            variants=self._arms(campaign, templates, plan.variant_counts),
            funnel=tuple(FunnelStep(*row) for row in plan.result.funnel.iter_rows()),
            samples=tuple(MessageSample(row["user_id"], row["subject"], row["text_body"].strip().splitlines()[0])
                          for row in plan.result.messages.head(2).iter_rows(named=True)),
            unapproved=tuple((key, status) for key, status in sorted(statuses.items()) if status != "approved"),
        )

    def _launch_result(self, campaign: Campaign, templates: _Templates, plan: Plan, report: LaunchReport,
                       out_dir: Path | None) -> LaunchResult:
        return LaunchResult(
            campaign_id=campaign.campaign_id, channel=campaign.channel, template_key=templates.main.key,
            live=report.live, export_dir=out_dir, send_at=plan.send_at, audience_sha256=plan.audience_sha256,
            counts=dict(plan.counts), variants=self._arms(campaign, templates, plan.variant_counts),
            batches=dict(report.batches), recipients_planned=report.recipients_planned,
            recipients_delivered=report.recipients_accepted, requests=report.requests, seconds=report.seconds,
            skipped=dict(report.skipped), unknown_batches=tuple(report.unknown_batches), halted=report.halted,
        )
