"""The campaign use cases as one service: submit, lint, show, diff, approve, reject and list templates; plan,
launch, reconcile and report on campaigns; receive provider webhook events.

Callers (the command line, the Dagster send and reconcile jobs, the webhook server, a console) name the
acting user and pass typed requests; they get typed, frozen results back and never touch a table. The
service resolves the user's role from its role directory and checks every permission, maker-checker rule
and approval itself, and writes the audit trail: every refusal and every permission denial too.

Two stores: campaign state lives in the operational store (`campaigns.store`, SQLite or Postgres, short
transactions); the analytics it needs (segments, consents, people, and contacts for the batch being sent)
are read from the warehouse through short read-only sessions. A launch, the webhook and a reconcile never
take the warehouse's write lock. Configuration comes in as typed objects: the service reads no environment
and no settings file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
from sqlalchemy import select

from campaigns.campaign_errors import (
    ApprovalError,
    BatchRequestError,
    CampaignError,
    DeliverySetupError,
    DraftError,
    PermissionDenied,
    ScheduleError,
    StaleScheduleError,
    StoreUnavailable,
)
from campaigns.content.copy_lint import LintReport, lint_template
from campaigns.content.template_review import TemplatePreview, preview, template_diff
from campaigns.definitions.campaign_file import Campaign, campaign_definition, load_campaign, parse_campaign
from campaigns.definitions.shipped_library import template_path
from campaigns.definitions.template_file import Template, load_template, load_template_definition
from campaigns.delivery.batch_reconciliation import BatchDecision, batch_table, reconcile, requeue
from campaigns.delivery.contact_book import CONTACT_COLUMN, ContactBook
from campaigns.delivery.outbox_ledger import LaunchReport, batch_states, summarise
from campaigns.delivery.plan_records import Plan, default_as_of, eligible_people, latest_launch, plan_campaign
from campaigns.delivery.provider_events import IngestResult, authentic_events, record_events
from campaigns.delivery.sendgrid_email import SenderConfig, deliver
from campaigns.delivery.vendor_export import export_batches
from campaigns.eligibility.consent_state import latest_consents
from campaigns.governance import accounts as account_book
from campaigns.governance.access import Actor, RoleDirectory, may, require, resolve_actor
from campaigns.governance.accounts import Account
from campaigns.governance.audit_trail import AuditEntry, audit, audit_entries
from campaigns.governance.template_approvals import (
    DEFAULT_APPROVAL_DAYS,
    RegisteredTemplate,
    TemplateStatus,
    approve_template,
    approved_template,
    list_templates,
    registered_template,
    registered_versions,
    reject_template,
    submit_template,
    template_status,
)
from campaigns.results import campaign_records
from campaigns.results.campaign_records import CampaignSummary
from campaigns.results.holdout_lift import holdout_lift
from campaigns.results.recipient_explanation import ConsentAtSend, RecipientExplanation, explain_recipient
from campaigns.store.op_database import OpStore
from campaigns.store.op_tables import campaign_drafts, outbox, templates
from warehouse import table_exists

Warehouse = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
ClientFactory = Callable[[str, SenderConfig], Any]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeliveryOptions:
    """How messages leave: the SendGrid sender and limits, the unsubscribe link, the vendor-file folder, and
    how long an ambiguous outcome or an old schedule is tolerated.

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
    # An `unknown` batch with no provider event this long after it was sent is resent once.
    reconcile_wait: timedelta = timedelta(minutes=30)
    # A launch for a `send_at` further in the past than this is refused until re-planned.
    send_at_grace: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class PlanRequest:
    """Decide a campaign's audience and record the plan; nothing is sent. The campaign is a file, or a draft
    saved in the store (`draft_id`)."""

    campaign_file: Path | None = None
    # Decide with what the data knew at the end of this local day (default: the end of the data window).
    as_of: date | None = None
    draft_id: str | None = None


@dataclass(frozen=True)
class LaunchRequest:
    """Launch a campaign (a file, or a saved draft by `draft_id`): decide again, then send (e-mail) or export
    (SMS, push); a dry run unless `live`."""

    campaign_file: Path | None = None
    live: bool = False
    # Launch before the campaign's `send_at` (or for a stale one), judging every rule for now.
    send_now: bool = False
    as_of: date | None = None
    # Folder for SMS/push vendor files (default: the delivery options' export folder).
    export_dir: Path | None = None
    # Admin only: requeue these `unknown` batches now (refused for a batch with provider evidence).
    resend_unknown: tuple[str, ...] = ()
    # Admin only: requeue these `failed` (4xx-rejected) batches after the cause was fixed.
    retry_failed: tuple[str, ...] = ()
    draft_id: str | None = None


@dataclass(frozen=True)
class SubmitResult:
    """A registered template version and its lint; `status` is submitted, blocked or unchanged (already there)."""

    template_key: str
    content_sha256: str
    author: str
    lint: LintReport
    status: str


@dataclass(frozen=True)
class ApprovalResult:
    template_key: str
    approver: str
    valid_days: int
    expires_at: datetime
    lint: LintReport
    acknowledged: tuple[str, ...] = ()


@dataclass(frozen=True)
class RejectionResult:
    template_key: str
    actor: str
    reason: str


@dataclass(frozen=True)
class TemplateReview:
    """What a reviewer needs: the rendered preview, the registry status and the lint findings with their ids."""

    preview: TemplatePreview
    status: TemplateStatus
    lint: LintReport
    author: str | None


@dataclass(frozen=True)
class TemplateDiff:
    from_key: str
    to_key: str
    lines: tuple[str, ...]


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
    """A whole rendered message of the plan, for a person to read (no contact details)."""

    user_id: str
    subject: str
    text_body: str


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
    # The business time zone the times are shown in.
    timezone: str = "UTC"
    # Things a launch would refuse or the planner should know (a stale send_at, nobody to send).
    notes: tuple[str, ...] = ()


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
    # Decided `send` now (0: nothing to send; `reasons` says why).
    to_send: int = 0
    # People per exclusion reason code of this decision (and `holdout`), most frequent first.
    reasons: Mapping[str, int] = field(default_factory=dict)
    timezone: str = "UTC"

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
    # The campaign reconciled (None: every campaign).
    campaign_id: str | None
    decisions: tuple[BatchDecision, ...]
    # Batches settled `accepted` from provider evidence, as "campaign/batch".
    reconciled_batches: tuple[str, ...]
    # Batches requeued and resent once (no evidence within the wait), as "campaign/batch".
    resent_batches: tuple[str, ...]
    # Batches still without evidence either way (waiting, or resend exhausted), as "campaign/batch".
    unknown_batches: tuple[str, ...]
    # Why a due resend did not go out (no API key, stale schedule), per campaign.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchStatus:
    batch_id: str
    variant: str | None
    state: str
    members: int
    attempts: int
    resends: int
    last_status: int | None
    last_error: str | None
    updated_at: datetime | None
    events: int
    event_kinds: str | None
    first_event_at: datetime | None


@dataclass(frozen=True)
class CampaignStatus:
    campaign_id: str
    batches: tuple[BatchStatus, ...]
    timezone: str = "UTC"

    @property
    def states(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for batch in self.batches:
            counts[batch.state] = counts.get(batch.state, 0) + 1
        return counts

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(b.batch_id for b in self.batches if b.state == "unknown")


@dataclass(frozen=True)
class ConsoleSession:
    """A console sign-in: who, with which role, and the session id (given once, to put in the browser)."""

    user: str
    role: str
    session_id: str


@dataclass(frozen=True)
class CampaignDraft:
    campaign_id: str
    definition: Mapping[str, Any]
    author: str
    updated_at: datetime


@dataclass(frozen=True)
class AudienceOptions:
    """What a campaign can target: RFM segments, personas and analysts' rule segments, each with its size."""

    rfm_segments: tuple[tuple[str, int], ...]
    personas: tuple[tuple[str, str, int], ...]
    rule_segments: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class CampaignResults:
    """A campaign's batches, its decisions, people per provider event, and the lift against its holdout."""

    status: CampaignStatus
    launched: bool
    decisions: Mapping[str, int]
    events: Mapping[str, int]
    # A `holdout_lift` row (None: no launch with both a treated and a held-out group, or no purchases data).
    lift: Mapping[str, Any] | None
    notes: tuple[str, ...] = ()


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
        store: OpStore,
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
            warehouse: Opens a read-only warehouse session (a context manager yielding a connection).
            store: The operational store holding every campaign table.
            roles: Where each user's role comes from.
            delivery: Sender, limits, folders and waits for launches and reconciliation.
            timezone: The business time zone (ages, `as_of` days, times shown).
            sendgrid_api_key: For live e-mail sends only; never stored, logged or put in a result.
            webhook_public_key: SendGrid's signed-webhook verification key (base64 DER), for `receive_webhook`.
            sendgrid_client_factory: Builds the SendGrid client (default: the real one).
            clock: The current instant (tz-aware).
            sleep: Waits between rate-limited retries.
        """
        ZoneInfo(timezone)  # an unknown zone fails here, not at the first plan
        self._warehouse = warehouse
        self._store = store
        self._roles = roles
        self._delivery = delivery or DeliveryOptions()
        self._timezone = timezone
        self._api_key = sendgrid_api_key
        self._webhook_key = webhook_public_key
        self._client_factory = sendgrid_client_factory
        self._clock = clock
        self._sleep = sleep
        self._contacts = ContactBook(self._warehouse_session)

    @property
    def verifies_webhooks(self) -> bool:
        """Whether the service holds a webhook verification key (`receive_webhook` needs one)."""
        return bool(self._webhook_key)

    @property
    def store(self) -> OpStore:
        return self._store

    # Templates.

    def submit_template(self, user: str | None, template_file: Path) -> SubmitResult:
        """Register a template file for review exactly as filed; a changed copy must carry a new version."""
        actor = self._actor(user, "template.submit", str(template_file))
        definition = load_template_definition(template_file)
        subject = f"{definition.get('template_id')}@{definition.get('version')}"
        with self._refusals(actor, "template.submit_refused", subject):
            with self._store.transaction() as conn:
                template, report, new = submit_template(conn, actor, definition, now=self._clock())
        status = ("submitted" if report.passed else "blocked") if new else "unchanged"
        return SubmitResult(template.key, template.content_sha256, actor.user, report, status)

    def lint_template(self, user: str | None, template_file: Path) -> LintReport:
        """Lint a template file against its jurisdiction's lint pack; nothing is recorded."""
        self._actor(user, "template.lint", str(template_file))
        return lint_template(load_template(template_file))

    def show_template(self, user: str | None, template_id: str | None = None, version: int | None = None,
                      template_file: Path | None = None) -> TemplateReview:
        """A registered version (or a template file) rendered with sample values, with status and lint findings."""
        self._actor(user, "template.show", f"{template_id}@{version}" if template_file is None else str(template_file))
        if template_file is not None:
            template = load_template(template_file)
            with self._store.transaction() as conn:
                status = template_status(conn, template.template_id, template.version, self._clock())
            author = None
        else:
            with self._store.transaction() as conn:
                template, author = registered_template(conn, str(template_id), int(version))
                status = template_status(conn, template.template_id, template.version, self._clock())
        return TemplateReview(preview(template, self._delivery.unsubscribe_url), status, lint_template(template), author)

    def diff_templates(self, user: str | None, template_id: str, version: int,
                       against: int | None = None) -> TemplateDiff:
        """What changed from one registered version (default: the previous one) to `version`."""
        self._actor(user, "template.show", f"{template_id}@{version}")
        with self._store.transaction() as conn:
            new, _ = registered_template(conn, template_id, version)
            if against is None:
                earlier = [v for v in registered_versions(conn, template_id) if v < version]
                if not earlier:
                    raise ApprovalError(f"{template_id}@{version} has no earlier registered version to compare with")
                against = earlier[-1]
            old, _ = registered_template(conn, template_id, against)
        return TemplateDiff(old.key, new.key, tuple(template_diff(old, new)))

    def approve_template(self, user: str | None, template_id: str, version: int,
                         valid_days: int = DEFAULT_APPROVAL_DAYS, acknowledged: Sequence[str] = ()) -> ApprovalResult:
        """Approve a submitted version: never by its author, never with a blocking lint finding, and only with
        every REVIEW finding acknowledged by id. Refusals are audited."""
        subject = f"{template_id}@{version}"
        actor = self._actor(user, "template.approve", subject)
        now = self._clock()
        with self._refusals(actor, "template.approve_refused", subject):
            with self._store.transaction() as conn:
                report = approve_template(conn, actor, template_id, version, valid_days=valid_days, now=now,
                                          acknowledged=acknowledged)
        return ApprovalResult(subject, actor.user, valid_days, now + timedelta(days=valid_days), report,
                              tuple(sorted(set(acknowledged))))

    def reject_template(self, user: str | None, template_id: str, version: int, reason: str) -> RejectionResult:
        """Reject a registered version with a reason."""
        subject = f"{template_id}@{version}"
        actor = self._actor(user, "template.reject", subject)
        with self._refusals(actor, "template.reject_refused", subject):
            with self._store.transaction() as conn:
                reject_template(conn, actor, template_id, version, reason, now=self._clock())
        return RejectionResult(subject, actor.user, reason)

    def list_templates(self, user: str | None) -> tuple[RegisteredTemplate, ...]:
        """Every registered template version with its status."""
        self._actor(user, "template.list")
        with self._store.transaction() as conn:
            return tuple(list_templates(conn, self._clock()))

    def submit_template_definition(self, user: str | None, definition: Mapping[str, Any],
                                   as_new_version: bool = False) -> SubmitResult:
        """Register a template given as a mapping (the console's form); `as_new_version` files it as the next
        free version of its id, so an edit never changes a registered version."""
        data = dict(definition)
        subject = f"{data.get('template_id')}@{data.get('version')}"
        actor = self._actor(user, "template.submit", subject)
        with self._refusals(actor, "template.submit_refused", subject):
            with self._store.transaction() as conn:
                if as_new_version:
                    versions = registered_versions(conn, str(data.get("template_id")))
                    data["version"] = (versions[-1] + 1) if versions else int(data.get("version") or 1)
                template, report, new = submit_template(conn, actor, data, now=self._clock())
        status = ("submitted" if report.passed else "blocked") if new else "unchanged"
        return SubmitResult(template.key, template.content_sha256, actor.user, report, status)

    def template_definition(self, user: str | None, template_id: str, version: int) -> dict[str, Any]:
        """A registered version as the mapping it was filed with (to edit it into a new version)."""
        self._actor(user, "template.show", f"{template_id}@{version}")
        with self._store.transaction() as conn:
            row = conn.execute(select(templates.c.definition_json).where(
                templates.c.template_id == template_id, templates.c.version == int(version))).first()
        if row is None:
            raise ApprovalError(f"template {template_id}@{version} is not registered")
        return json.loads(row.definition_json)

    def review_queue(self, user: str | None) -> tuple[RegisteredTemplate, ...]:
        """Versions awaiting a reviewer: submitted (or approved once and expired), oldest first."""
        self._actor(user, "template.approve", "review-queue")
        with self._store.transaction() as conn:
            waiting = [t for t in list_templates(conn, self._clock()) if t.status.status in ("submitted", "expired")]
        return tuple(sorted(waiting, key=lambda t: t.created_at))

    # Campaigns.

    def plan(self, user: str | None, request: PlanRequest) -> PlanResult:
        """Decide every audience member through every rule at the send instant and record the plan; nothing is sent.

        Templates of any status are used (an unregistered one from the shipped library), and the result
        names those that are not approved.
        """
        actor = self._actor(user, "campaign.plan", self._request_subject(request))
        campaign = self._requested_campaign(request)
        templates = self._templates(campaign, approved_only=False)
        notes = []
        if self._stale(campaign):
            notes.append(f"send_at {self._local(campaign.send_at)} is more than "
                         f"{self._grace_hours():g} hour(s) ago: launch refuses it; set a new send_at (or --now)")
        with self._warehouse_session() as conn:
            plan = plan_campaign(conn, self._store, campaign, templates.main, actor.user,
                                 self._as_of(conn, request.as_of), self._delivery.unsubscribe_url, "plan",
                                 self._timezone, send_at=self._send_instant(campaign, send_now=False),
                                 variant_templates=templates.variants)
        if not plan.counts.get("send"):
            notes.append("nobody to send: " + _reason_text(plan))
        return self._plan_result(campaign, templates, plan, tuple(notes))

    def launch(self, user: str | None, request: LaunchRequest) -> LaunchResult:
        """Decide again at the send instant, record the launch, then send (e-mail) or export (SMS, push).

        Raises:
            PermissionDenied: the user may not launch (or requeue unknown or failed batches).
            ScheduleError: the campaign's `send_at` is still ahead and `send_now` was not asked for.
            StaleScheduleError: the `send_at` is further in the past than the grace and `send_now` was not asked.
            DeliverySetupError: a live e-mail send without an API key or unsubscribe group.
            ApprovalError: a template of the campaign is not approved and unexpired.
            BatchRequestError: a batch named for a requeue cannot be requeued.
        """
        subject = self._request_subject(request)
        actor = self._actor(user, "campaign.launch", subject)
        if request.resend_unknown:
            self._require(actor, "campaign.resend_unknown", subject)
        if request.retry_failed:
            self._require(actor, "campaign.retry_failed", subject)
        campaign = self._requested_campaign(request)
        with self._refusals(actor, "campaign.launch_refused", campaign.campaign_id):
            if campaign.send_at is not None and not request.send_now and self._clock() < campaign.send_at:
                raise ScheduleError(subject, campaign.send_at)
            if self._stale(campaign) and not request.send_now:
                raise StaleScheduleError(subject, campaign.send_at, self._grace_hours())
            if request.live and campaign.channel == "email":
                self._require_live_email_setup()
            templates = self._templates(campaign, approved_only=True)
        return self._launch(actor, campaign, templates, request.live, self._send_instant(campaign, request.send_now),
                            request.as_of, request.export_dir, "launch", request.resend_unknown, request.retry_failed)

    def reconcile(self, user: str | None, campaign_id: str | None = None) -> ReconcileResult:
        """Settle open batches from provider evidence; resend, once per batch, those with none after the wait.

        Every decision and its evidence goes to the audit trail. A due resend is decided again (rules at the
        launch's send instant, unsubscribes since honoured) and sent like a launch; it needs the API key.
        """
        actor = self._actor(user, "campaign.reconcile", campaign_id or "*")
        now = self._clock()
        report = reconcile(self._store, actor.user, self._delivery.reconcile_wait, campaign_id, now=now)
        notes: list[str] = []
        resent: list[str] = []
        for cid in report.campaigns_to_resend:
            due = [b for c, b in report.batches("resend") if c == cid]
            note = self._resend(actor, cid)
            if note:
                notes.append(note)
                continue
            with self._store.transaction() as conn:
                states = batch_states(conn, cid, due)
            resent.extend(f"{cid}/{b}" for b in due if states.get(b) in ("accepted", "unknown", "failed", "empty"))
        with self._store.transaction() as conn:
            scope = [outbox.c.state == "unknown"]
            if campaign_id is not None:
                scope.append(outbox.c.campaign_id == campaign_id)
            remaining = [f"{c}/{b}" for c, b in conn.execute(select(outbox.c.campaign_id, outbox.c.batch_id)
                                                             .where(*scope).order_by(outbox.c.campaign_id,
                                                                                     outbox.c.batch_id)).all()]
            reconciled = [f"{c}/{b}" for c, b in report.batches("accepted")]
            audit(conn, actor.user, "campaign.reconcile", campaign_id or "*", {
                "reconciled_batches": reconciled, "resent_batches": resent, "unknown_batches": remaining,
                "decisions": [d.__dict__ for d in report.decisions], "notes": notes}, now)
        return ReconcileResult(campaign_id, tuple(report.decisions), tuple(reconciled), tuple(resent),
                               tuple(remaining), tuple(notes))

    def campaign_status(self, user: str | None, campaign_id: str) -> CampaignStatus:
        """Each batch of a campaign: state, attempts, resends, last answer and the provider evidence for it."""
        self._actor(user, "campaign.status", campaign_id)
        table = batch_table(self._store, campaign_id)
        return CampaignStatus(campaign_id, tuple(
            BatchStatus(r["batch_id"], r["variant"], r["state"], r["member_count"], r["attempts"], r["resends"],
                        r["last_status"], r["last_error"], r["updated_at"], r["events"], r["kinds"],
                        r["first_event_at"]) for r in table.iter_rows(named=True)), self._timezone)

    # Campaign drafts (the console's campaign builder).

    def save_campaign_draft(self, user: str | None, definition: Mapping[str, Any]) -> CampaignDraft:
        """Validate a campaign definition (as a campaign file would hold it) and keep it as a draft."""
        subject = str(definition.get("campaign_id"))
        actor = self._actor(user, "campaign.draft", subject)
        with self._refusals(actor, "campaign.draft_refused", subject):
            campaign = parse_campaign(dict(definition), source=f"draft:{subject}")
            self._templates(campaign, approved_only=False)  # every template must exist (any status)
            stored = campaign_definition(campaign)
            now = self._clock()
            with self._store.transaction() as conn:
                exists = conn.execute(select(campaign_drafts.c.campaign_id)
                                      .where(campaign_drafts.c.campaign_id == campaign.campaign_id)).first()
                body = json.dumps(stored, ensure_ascii=False, sort_keys=True)
                if exists:
                    conn.execute(campaign_drafts.update().where(campaign_drafts.c.campaign_id == campaign.campaign_id)
                                 .values(definition_json=body, author=actor.user, updated_at=now))
                else:
                    conn.execute(campaign_drafts.insert().values(campaign_id=campaign.campaign_id, definition_json=body,
                                                                 author=actor.user, updated_at=now))
                audit(conn, actor.user, "campaign.draft", campaign.campaign_id, {"definition": stored}, now)
        return CampaignDraft(campaign.campaign_id, stored, actor.user, now)

    def campaign_drafts(self, user: str | None) -> tuple[CampaignDraft, ...]:
        self._actor(user, "campaign.status", "drafts")
        with self._store.transaction() as conn:
            rows = conn.execute(select(campaign_drafts).order_by(campaign_drafts.c.updated_at.desc())).all()
        return tuple(CampaignDraft(r.campaign_id, json.loads(r.definition_json), r.author, r.updated_at) for r in rows)

    def campaign_draft(self, user: str | None, campaign_id: str) -> CampaignDraft:
        self._actor(user, "campaign.status", campaign_id)
        return self._draft(campaign_id)

    def campaigns(self, user: str | None) -> tuple[CampaignSummary, ...]:
        """Every campaign the store has recorded a run for, most recent first."""
        self._actor(user, "campaign.status", "campaigns")
        with self._store.transaction() as conn:
            return tuple(campaign_records.campaign_summaries(conn))

    def audience_options(self, user: str | None) -> AudienceOptions:
        """The segments a campaign can target, with their sizes, from the warehouse."""
        self._actor(user, "campaign.plan", "audience-options")
        with self._warehouse_session() as conn:
            rfm = conn.execute("SELECT rfm_segment, count(*) FROM marts.user_segment WHERE rfm_segment IS NOT NULL "
                               "GROUP BY ALL ORDER BY 2 DESC, 1").fetchall()
            personas = conn.execute("SELECT CAST(persona_id AS VARCHAR), any_value(persona_name), count(*) "
                                    "FROM marts.user_segment WHERE persona_id IS NOT NULL GROUP BY 1 ORDER BY 1"
                                    ).fetchall()
            rules = (conn.execute("SELECT segment, coalesce(description, ''), users FROM marts.rule_segment "
                                  "ORDER BY segment").fetchall()
                     if table_exists(conn, "marts.rule_segment") else [])
        return AudienceOptions(tuple((str(a), int(b)) for a, b in rfm),
                               tuple((str(a), str(b or ""), int(c)) for a, b, c in personas),
                               tuple((str(a), str(b), int(c)) for a, b, c in rules))

    def campaign_results(self, user: str | None, campaign_id: str) -> CampaignResults:
        """Batches and their states, decisions, people per provider event, and the lift against the holdout."""
        status = self.campaign_status(user, campaign_id)
        notes: list[str] = []
        with self._store.transaction() as conn:
            plan = campaign_records.deciding_plan(conn, campaign_id)
            decisions = campaign_records.decision_counts(conn, plan.plan_id) if plan is not None else {}
            events = campaign_records.event_people(conn, campaign_id)
            assignments = campaign_records.first_launch_assignments(conn, campaign_id)
            launched = campaign_records.was_sent(conn, campaign_id)
        lift = None
        if assignments.height:
            try:
                with self._warehouse_session() as conn:
                    purchases = pl.from_arrow(conn.execute("SELECT user_id, occurred_at FROM core.purchases").arrow())
                    observed = conn.execute("SELECT window_end FROM core.analysis_window").fetchone()[0]
                purchases = purchases.with_columns(pl.col("user_id").cast(pl.String),
                                                   pl.col("occurred_at").dt.convert_time_zone("UTC"))
                rows = holdout_lift(assignments, purchases, observed.astimezone(UTC))
                lift = rows.row(0, named=True) if rows.height else None
            except (StoreUnavailable, FileNotFoundError, duckdb.Error) as error:
                notes.append(f"lift not available now: {error}")
            if lift is None and not notes:
                notes.append("no lift: the first launch has no held-out group (holdout 0%) or nobody was sent")
        return CampaignResults(status, launched, decisions, events, lift, tuple(notes))

    # People.

    def explain_recipient(self, user: str | None, user_id: str, campaign_id: str) -> RecipientExplanation:
        """Why a person was or was not sent a campaign: the recorded decision, every rule passed or failed with
        its reason, consent at the decision instant, holdout, variant, batch and provider events. The contact
        is masked unless the user's role may see contact details."""
        actor = self._actor(user, "recipient.explain", f"{campaign_id}/{user_id}")
        with self._store.transaction() as conn:
            plan = campaign_records.deciding_plan(conn, campaign_id)
            decision, as_of = (campaign_records.recorded_decision(conn, plan, user_id) if plan is not None
                               else (None, None))
            template = campaign_records.decision_template(conn, plan.template_key) if plan is not None else None
            batch_id, batch_state, skipped, events = campaign_records.delivery_of(conn, campaign_id, user_id)
            sent = campaign_records.was_sent(conn, campaign_id)
            audit(conn, actor.user, "recipient.explain", f"{campaign_id}/{user_id}",
                  {"found": decision is not None}, self._clock())
        channel = template.channel if template is not None else None
        consent: list[ConsentAtSend] = []
        contact = None
        if channel is not None and decision is not None:
            with self._warehouse_session() as conn:
                records = pl.from_arrow(conn.execute(
                    "SELECT user_id, channel, purpose, status, recorded_at, evidence_ref FROM staged.consents "
                    "WHERE user_id = ? AND channel = ?", [user_id, channel]).arrow())
            if records.height:
                records = records.with_columns(pl.col("recorded_at").dt.convert_time_zone("UTC"))
                latest = latest_consents(records, as_of or self._clock()).sort("purpose")
                consent = [ConsentAtSend(r["purpose"], r["status"], r["recorded_at"], r["evidence_ref"])
                           for r in latest.iter_rows(named=True)]
            column = CONTACT_COLUMN[channel]
            found = self._contacts.contacts([user_id], channel)
            contact = found[column].item() if found.height else None
        rules = campaign_records.decision_rules(template, decision.rule_version if decision else None)
        return explain_recipient(user_id, campaign_id, decision, sent, rules, consent, batch_id, batch_state, skipped,
                                 events, contact, may(actor, "recipient.contact"))

    # The audit trail.

    def audit_trail(self, user: str | None, actor: str | None = None, action: str | None = None,
                    subject: str | None = None, since: datetime | None = None, until: datetime | None = None,
                    limit: int = 200) -> tuple[AuditEntry, ...]:
        """Audit rows, newest first, filtered by actor, action prefix, subject text and time."""
        self._actor(user, "audit.read", "audit-trail")
        with self._store.transaction() as conn:
            return tuple(audit_entries(conn, actor, action, subject, since, until, limit))

    # Accounts and console sessions.

    def add_account(self, user: str | None, name: str, role: str, password: str) -> Account:
        """Create a console account. The very first account of a store must be an admin and needs no acting user
        (someone has to be first); every later one is made by an admin."""
        now = self._clock()
        with self._store.transaction() as conn:
            first = account_book.account_count(conn) == 0
        if first and role == "admin":
            actor = Actor(user or "<first-admin>", "admin")
        else:
            actor = self._actor(user, "account.manage", name)
        with self._refusals(actor, "account.add_refused", name):
            with self._store.transaction() as conn:
                account = account_book.add_account(conn, name, role, password, now)
                audit(conn, actor.user, "account.add", account.user_name, {"role": account.role, "first": first}, now)
        return account

    def disable_account(self, user: str | None, name: str) -> int:
        """Disable an account (it keeps its history) and end its sessions; how many sessions ended."""
        actor = self._actor(user, "account.manage", name)
        now = self._clock()
        with self._refusals(actor, "account.disable_refused", name):
            with self._store.transaction() as conn:
                ended = account_book.disable_account(conn, name, now)
                audit(conn, actor.user, "account.disable", name, {"sessions_ended": ended}, now)
        return ended

    def list_accounts(self, user: str | None) -> tuple[Account, ...]:
        self._actor(user, "account.manage", "accounts")
        with self._store.transaction() as conn:
            return tuple(account_book.list_accounts(conn))

    def sign_in(self, name: str, password: str, lifetime: timedelta, client: str = "console") -> ConsoleSession | None:
        """Check a console sign-in (throttled per account) and open a session; None when refused. Both are
        audited; the refusal's detail is only in the audit trail, never in the answer."""
        now = self._clock()
        with self._store.transaction() as conn:
            outcome = account_book.sign_in(conn, name, password, now)
            if not outcome.ok:
                audit(conn, outcome.user_name or "<none>", "console.sign_in_refused", outcome.user_name or "",
                      {"reason": outcome.detail, "client": client}, now)
                return None
        role = self._roles.role_of(outcome.user_name)
        with self._store.transaction() as conn:
            if role is None:
                audit(conn, outcome.user_name, "console.sign_in_refused", outcome.user_name,
                      {"reason": "no role in the role directory", "client": client}, now)
                return None
            session_id = account_book.start_session(conn, outcome.user_name, now, lifetime)
            audit(conn, outcome.user_name, "console.sign_in", outcome.user_name, {"role": role, "client": client}, now)
        return ConsoleSession(outcome.user_name, role, session_id)

    def session_actor(self, session_id: str, idle: timedelta) -> Actor | None:
        """The user and current role of a live session (None: ended, expired, idle too long, or no role now)."""
        with self._store.transaction() as conn:
            name = account_book.session_user(conn, session_id, self._clock(), idle)
        if name is None:
            return None
        role = self._roles.role_of(name)
        return Actor(name, role) if role else None

    def sign_out(self, session_id: str) -> None:
        now = self._clock()
        with self._store.transaction() as conn:
            name = account_book.end_session(conn, session_id, now)
            if name is not None:
                audit(conn, name, "console.sign_out", name, {}, now)

    def check_access(self, user: str | None, action: str, subject: str = "") -> Actor:
        """Refuse (and audit the denial) unless the user's role may perform `action`; the actor otherwise."""
        return self._actor(user, action, subject)

    def may(self, user: str | None, action: str) -> bool:
        """Whether the user's role may perform `action` (nothing audited: to show or hide what a page offers)."""
        try:
            return may(resolve_actor(user, self._roles), action)
        except PermissionDenied:
            return False

    def record_action(self, user: str, action: str, subject: str, details: Mapping[str, Any]) -> None:
        """Audit something a caller did on the user's behalf (e.g. a console denial it answered itself)."""
        with self._store.transaction() as conn:
            audit(conn, user, action, subject, dict(details), self._clock())

    @property
    def live_email_ready(self) -> bool:
        """Whether a live e-mail send has what it needs here (a SendGrid API key and an unsubscribe group)."""
        return bool(self._api_key and self._delivery.asm_group)

    # Provider events.

    def receive_webhook(self, body: bytes, headers: Mapping[str, str]) -> IngestResult:
        """Verify one signed SendGrid Event Webhook delivery and record its events once.

        The signature is checked before any store is opened, so a forged or stale request touches nothing.
        Malformed events of an authentic delivery are quarantined with their reason and the rest stored. The
        result's `status` is the HTTP answer (200 recorded, 401 refused, 400 not an array, 503 retry later).

        Raises:
            DeliverySetupError: the service was built without a verification key.
            StoreUnavailable: the operational store cannot be used now (the provider retries later).
        """
        if not self._webhook_key:
            raise DeliverySetupError("sendgrid_webhook_public_key",
                                     "receiving webhook events needs SendGrid's verification public key")
        events = authentic_events(body, headers, self._webhook_key, now=self._clock().timestamp())
        if isinstance(events, IngestResult):
            return events
        return record_events(self._store, events, self._members_by_address, now=self._clock())

    # Internals.

    def _request_subject(self, request: PlanRequest | LaunchRequest) -> str:
        return f"draft:{request.draft_id}" if request.draft_id else str(request.campaign_file)

    def _requested_campaign(self, request: PlanRequest | LaunchRequest) -> Campaign:
        if (request.campaign_file is None) == (request.draft_id is None):
            raise ValueError("name a campaign file or a saved draft, not both or neither")
        if request.draft_id is not None:
            draft = self._draft(request.draft_id)
            return parse_campaign(dict(draft.definition), source=f"draft:{draft.campaign_id}")
        return load_campaign(request.campaign_file)

    def _draft(self, campaign_id: str) -> CampaignDraft:
        with self._store.transaction() as conn:
            row = conn.execute(select(campaign_drafts).where(campaign_drafts.c.campaign_id == campaign_id)).first()
        if row is None:
            raise DraftError(f"no campaign draft {campaign_id!r}")
        return CampaignDraft(row.campaign_id, json.loads(row.definition_json), row.author, row.updated_at)

    def _launch(self, actor: Actor, campaign: Campaign, templates: _Templates, live: bool, send_instant: datetime,
                as_of_day: date | None, export_dir: Path | None, kind: str, resend_unknown: Sequence[str] = (),
                retry_failed: Sequence[str] = ()) -> LaunchResult:
        exporting = campaign.channel != "email"
        config = self._sender_config(templates.main)
        with self._warehouse_session() as conn:
            plan = plan_campaign(conn, self._store, campaign, templates.main, actor.user, self._as_of(conn, as_of_day),
                                 config.unsubscribe_base_url, kind, self._timezone, send_at=send_instant,
                                 variant_templates=templates.variants)
        eligible = eligible_people(plan)
        out_dir = (export_dir or self._delivery.export_dir) if exporting else None
        if live and eligible.height == 0 and not resend_unknown and not retry_failed:
            # Nobody to send now (everyone excluded or held out, or quiet hours): a normal outcome. The ledger is
            # left as it is, so people frozen earlier are not skipped for a reason that may pass.
            report = LaunchReport(campaign.campaign_id, live)
            with self._store.transaction() as conn:
                audit(conn, actor.user, "campaign.launch_nothing_to_send", campaign.campaign_id,
                      {"plan_id": plan.plan_id, "counts": plan.counts}, self._clock())
            summarise(self._store, report)
            return self._launch_result(campaign, templates, plan, report, out_dir, 0)
        self._operator_requeues(actor, campaign.campaign_id, resend_unknown, retry_failed)
        if exporting:
            report = export_batches(self._store, self._contacts, campaign_id=campaign.campaign_id,
                                    channel=campaign.channel, template=templates.main, eligible=eligible,
                                    out_dir=out_dir, actor=actor.user, live=live, batch_size=config.batch_size,
                                    unsubscribe_base_url=config.unsubscribe_base_url,
                                    variant_templates=templates.variants, send_instant=plan.send_at)
        else:
            report = deliver(self._store, self._contacts, campaign_id=campaign.campaign_id, template=templates.main,
                             eligible=eligible, config=config, actor=actor.user,
                             api_key=self._api_key if live else None, live=live, sleep=self._sleep,
                             client_factory=self._client_factory, variant_templates=templates.variants,
                             send_instant=plan.send_at,
                             before_sending=lambda: self._settle(actor, campaign.campaign_id))
        return self._launch_result(campaign, templates, plan, report, out_dir, eligible.height)

    def _settle(self, actor: Actor, campaign_id: str) -> None:
        """Before a launch sends: settle unknown batches from stored evidence, requeue overdue ones once."""
        reconcile(self._store, actor.user, self._delivery.reconcile_wait, campaign_id, now=self._clock())

    def _operator_requeues(self, actor: Actor, campaign_id: str, resend_unknown: Sequence[str],
                           retry_failed: Sequence[str]) -> None:
        for batch_ids, from_state, action, reason, counted in (
                (resend_unknown, "unknown", "delivery.operator_resend_unknown",
                 "requeued by an admin after an unknown outcome", True),
                (retry_failed, "failed", "delivery.retry_failed", "requeued by an admin after a fix", False)):
            if not batch_ids:
                continue
            with self._refusals(actor, f"{action}_refused", campaign_id):
                with self._store.transaction() as conn:
                    states = batch_states(conn, campaign_id, batch_ids)
                wrong = sorted(b for b in batch_ids if states.get(b) != from_state)
                if wrong:
                    found = ", ".join(f"{b}={states.get(b, 'absent')}" for b in wrong)
                    raise BatchRequestError(f"campaign {campaign_id}: batch(es) {', '.join(wrong)} are not {from_state} "
                                            f"({found})")
                moved = requeue(self._store, campaign_id, list(batch_ids), from_state, actor.user, action, reason,
                                count_resend=counted)
                refused = sorted(set(batch_ids) - set(moved))
                if refused:
                    raise BatchRequestError(f"campaign {campaign_id}: batch(es) {', '.join(refused)} have provider "
                                            "events proving SendGrid accepted them; resending would duplicate")

    def _resend(self, actor: Actor, campaign_id: str) -> str | None:
        """Send a campaign's requeued batches as its latest launch decided them; a note when it cannot."""
        launches = latest_launch(self._store, campaign_id)
        if launches.height == 0 or launches["campaign_json"].item() is None:
            return f"{campaign_id}: no recorded launch to resend from"
        campaign = parse_campaign(json.loads(launches["campaign_json"].item()), source=f"ledger:{campaign_id}")
        send_instant = launches["send_at"].item()
        if self._clock() - send_instant > self._delivery.send_at_grace:
            return (f"{campaign_id}: resend due, but its send instant {self._local(send_instant)} is more than "
                    f"{self._grace_hours():g} hour(s) ago; launch it with --now to send the requeued batches")
        if campaign.channel == "email" and (not self._api_key or not self._delivery.asm_group):
            return f"{campaign_id}: resend due, but live e-mail needs the SendGrid API key and unsubscribe group"
        try:
            templates = self._templates(campaign, approved_only=True)
        except ApprovalError as refused:
            return f"{campaign_id}: resend due, but {refused}"
        self._launch(actor, campaign, templates, True, send_instant, None, None, "resend")
        return None

    def _actor(self, user: str | None, action: str, subject: str = "") -> Actor:
        try:
            actor = resolve_actor(user, self._roles)
        except PermissionDenied as denied:
            self._audit_denial(user or "<none>", action, subject, denied)
            raise
        self._require(actor, action, subject)
        return actor

    def _require(self, actor: Actor, action: str, subject: str) -> None:
        try:
            require(actor, action)
        except PermissionDenied as denied:
            self._audit_denial(actor.user, action, subject, denied)
            raise

    def _audit_denial(self, user: str, action: str, subject: str, denied: PermissionDenied) -> None:
        try:
            with self._store.transaction() as conn:
                audit(conn, user, "access.denied", subject or action, {"action": action, "reason": str(denied)},
                      self._clock())
        except StoreUnavailable:
            pass  # the denial stands even when it cannot be recorded now

    @contextmanager
    def _refusals(self, actor: Actor, action: str, subject: str) -> Iterator[None]:
        """Audit (in its own transaction) any refusal raised inside the block, then let it propagate."""
        try:
            yield
        except (CampaignError, PermissionDenied) as refused:
            if isinstance(refused, StoreUnavailable):
                raise
            with self._store.transaction() as conn:
                audit(conn, actor.user, action, subject, {"error": type(refused).__name__, "reason": str(refused)},
                      self._clock())
            raise

    @contextmanager
    def _warehouse_session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            session = self._warehouse()
            conn = session.__enter__()
        except duckdb.IOException as error:
            raise StoreUnavailable(f"the warehouse cannot be opened now ({type(error).__name__})") from error
        try:
            yield conn
        finally:
            session.__exit__(None, None, None)

    def _members_by_address(self, addresses: Sequence[str]) -> Mapping[str, str] | None:
        """user_id by lower-cased address for events without `member_ref`; None when the warehouse is busy."""
        try:
            with self._warehouse_session() as conn:
                conn.register("_addresses", pl.DataFrame({"address": list(addresses)}).to_arrow())
                try:
                    rows = conn.execute("SELECT a.address, min(c.user_id) FROM private.user_contacts c JOIN _addresses a "
                                        "ON lower(trim(c.email)) = a.address GROUP BY a.address").fetchall()
                finally:
                    conn.unregister("_addresses")
        except (StoreUnavailable, FileNotFoundError, duckdb.Error):
            return None
        return dict(rows)

    def _templates(self, campaign: Campaign, approved_only: bool) -> _Templates:
        """The main and variant templates: approved and unexpired for a launch, any status for a plan."""
        with self._store.transaction() as conn:
            main, status = self._template(conn, campaign.template_id, campaign.template_version, approved_only)
            arms = {arm.name: self._template(conn, arm.template_id, arm.template_version, approved_only)
                    for arm in campaign.variants}
        return _Templates(main, status, {name: template for name, (template, _) in arms.items()},
                          {name: arm_status for name, (_, arm_status) in arms.items()})

    def _template(self, conn, template_id: str, version: int, approved_only: bool) -> tuple[Template, str]:
        now = self._clock()
        if approved_only:
            return approved_template(conn, template_id, version, now), "approved"
        status = template_status(conn, template_id, version, now).status
        if status != "unregistered":
            return registered_template(conn, template_id, version)[0], status
        return load_template(template_path(template_id, version)), "unregistered"

    def _send_instant(self, campaign: Campaign, send_now: bool) -> datetime:
        """The instant every rule is judged for: `send_at`, unless sending now."""
        if campaign.send_at is None or send_now:
            return self._clock().astimezone(UTC)
        return campaign.send_at.astimezone(UTC)

    def _stale(self, campaign: Campaign) -> bool:
        return campaign.send_at is not None and self._clock() - campaign.send_at > self._delivery.send_at_grace

    def _grace_hours(self) -> float:
        return self._delivery.send_at_grace.total_seconds() / 3600

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self._timezone)).isoformat()

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

    def _plan_result(self, campaign: Campaign, templates: _Templates, plan: Plan, notes: tuple[str, ...]) -> PlanResult:
        statuses = {templates.main.key: templates.main_status,
                    **{templates.variants[name].key: status for name, status in templates.statuses.items()}}
        return PlanResult(
            campaign_id=campaign.campaign_id, channel=campaign.channel, template_key=templates.main.key,
            template_status=templates.main_status, rule_version=plan.result.rule_version, plan_id=plan.plan_id,
            as_of=plan.as_of, send_at=plan.send_at, audience_sha256=plan.audience_sha256, counts=dict(plan.counts),
            variants=self._arms(campaign, templates, plan.variant_counts),
            funnel=tuple(FunnelStep(*row) for row in plan.result.funnel.iter_rows()),
            samples=tuple(MessageSample(row["user_id"], row["subject"], row["text_body"].strip("\n"))
                          for row in plan.result.messages.head(2).iter_rows(named=True)),
            unapproved=tuple((key, status) for key, status in sorted(statuses.items()) if status != "approved"),
            timezone=self._timezone, notes=notes,
        )

    def _launch_result(self, campaign: Campaign, templates: _Templates, plan: Plan, report: LaunchReport,
                       out_dir: Path | None, to_send: int) -> LaunchResult:
        reasons = dict(plan.exclusion_reasons)
        if plan.counts.get("holdout"):
            reasons["holdout"] = int(plan.counts["holdout"])
        return LaunchResult(
            campaign_id=campaign.campaign_id, channel=campaign.channel, template_key=templates.main.key,
            live=report.live, export_dir=out_dir, send_at=plan.send_at, audience_sha256=plan.audience_sha256,
            counts=dict(plan.counts), variants=self._arms(campaign, templates, plan.variant_counts),
            batches=dict(report.batches), recipients_planned=report.recipients_planned,
            recipients_delivered=report.recipients_accepted, requests=report.requests, seconds=report.seconds,
            skipped=dict(report.skipped), unknown_batches=tuple(report.unknown_batches), halted=report.halted,
            to_send=to_send, reasons=reasons, timezone=self._timezone,
        )


def _reason_text(plan: Plan) -> str:
    reasons = dict(plan.exclusion_reasons)
    parts = [f"{code} ({people})" for code, people in list(reasons.items())[:5]]
    if plan.counts.get("holdout"):
        parts.append(f"holdout ({plan.counts['holdout']})")
    return ", ".join(parts) or "the audience is empty"


__all__ = ["ApprovalResult", "ArmResult", "AudienceOptions", "BatchStatus", "CampaignDraft", "CampaignResults",
           "CampaignService", "CampaignStatus", "ConsoleSession", "DeliveryOptions",
           "LaunchRequest", "LaunchResult", "MessageSample", "PlanRequest", "PlanResult", "ReconcileResult",
           "RejectionResult", "SubmitResult", "TemplateDiff", "TemplateReview"]
