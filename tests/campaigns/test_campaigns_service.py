"""The campaign service end to end: a hand-built warehouse, the local SendGrid server, roles resolved inside."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import duckdb
import pytest
import sendgrid
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from campaigns import (
    ApprovalError,
    CampaignService,
    DeliveryOptions,
    DeliverySetupError,
    LaunchRequest,
    PermissionDenied,
    PlanRequest,
    ScheduleError,
    StoreUnavailable,
    template_path,
)
from campaigns.governance.access import StaticRoles
from campaigns.governance.audit_trail import verify_audit_chain
from tests.campaigns.sendgrid_server import TEST_KEY, FakeSendGrid
from tests.pipelines.campaign_warehouse import CONSENTING, DECIDED_AT, build_warehouse, email_of, write_campaign
from warehouse import connect

ROLES = StaticRoles({"mei": "marketer", "chen": "compliance", "ada": "admin", "ann": "analyst"})


def service_for(warehouse: Path, server: FakeSendGrid | None = None, **options) -> CampaignService:
    delivery = DeliveryOptions(asm_group=101, host=server.base_url, batch_size=10,
                               timeout_seconds=5) if server else DeliveryOptions()
    options.setdefault("sendgrid_api_key", TEST_KEY if server else None)
    return CampaignService(partial(connect, warehouse), ROLES, delivery, sleep=lambda seconds: None, **options)


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def actions(warehouse: Path) -> list[str]:
    return [a for (a,) in rows(warehouse, "SELECT action FROM campaigns.audit_log ORDER BY seq")]


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A warehouse with no template registered yet."""
    return build_warehouse(tmp_path / "w.duckdb", approve=False)


@pytest.fixture
def approved(tmp_path: Path) -> Path:
    """A warehouse where wealth_welcome@1 is submitted and approved."""
    return build_warehouse(tmp_path / "w.duckdb")


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    fake = FakeSendGrid().start()
    yield fake
    fake.stop()


def own_template(folder: Path, template_id: str) -> Path:
    path = folder / f"{template_id}_v1.yaml"
    path.write_text(template_path("wealth_welcome", 1).read_text(encoding="utf-8")
                    .replace("template_id: wealth_welcome", f"template_id: {template_id}"), encoding="utf-8")
    return path


def test_maker_checker_through_the_service(fresh: Path, tmp_path: Path) -> None:
    service = service_for(fresh)
    submitted = service.submit_template("mei", template_path("wealth_welcome", 1))
    assert submitted.template_key == "wealth_welcome@1" and submitted.author == "mei" and submitted.lint.passed
    # A marketer may author but never approve; compliance may approve but never author.
    with pytest.raises(PermissionDenied, match="mei \\(marketer\\) may not template.approve"):
        service.approve_template("mei", "wealth_welcome", 1)
    with pytest.raises(PermissionDenied, match="may not template.submit"):
        service.submit_template("chen", template_path("wealth_welcome", 1))
    # The author can never approve their own template, whatever their role.
    service.submit_template("ada", own_template(tmp_path, "admin_own"))
    with pytest.raises(PermissionDenied, match="maker-checker"):
        service.approve_template("ada", "admin_own", 1)
    approval = service.approve_template("chen", "wealth_welcome", 1, valid_days=30)
    assert approval.approver == "chen" and approval.valid_days == 30
    # Someone the directory does not know, or no one, has no rights at all.
    with pytest.raises(PermissionDenied, match="not in the roles file"):
        service.list_templates("mallory")
    with pytest.raises(PermissionDenied, match="no acting user"):
        service.list_templates(None)
    with pytest.raises(ApprovalError, match="reason"):
        service.reject_template("chen", "admin_own", 1, "  ")
    rejected = service.reject_template("chen", "admin_own", 1, "not reviewed by legal")
    assert rejected.template_key == "admin_own@1"
    listed = {(t.template_id, t.version): t for t in service.list_templates("ann")}
    assert listed[("wealth_welcome", 1)].status.status == "approved"
    assert listed[("admin_own", 1)].status.status == "rejected"
    assert listed[("admin_own", 1)].status.reason == "not reviewed by legal"
    assert actions(fresh) == ["template.submit", "template.submit", "template.approve", "template.reject"]
    with duckdb.connect(str(fresh), read_only=True) as conn:
        assert verify_audit_chain(conn)


def test_lint_needs_a_role_but_no_warehouse(tmp_path: Path) -> None:
    service = CampaignService(partial(connect, tmp_path / "absent" / "w.duckdb"), ROLES)
    bad = own_template(tmp_path, "wealth_bad")
    bad.write_text(bad.read_text(encoding="utf-8").replace("感谢您关注", "本产品保本保收益，感谢您关注"), encoding="utf-8")
    report = service.lint_template("ann", bad)
    assert not report.passed and "CN-AD-01" in {f.rule_id for f in report.blocking}
    assert service.lint_template("ann", template_path("wealth_welcome", 1)).passed
    with pytest.raises(PermissionDenied):
        service.lint_template("nobody", bad)
    assert not (tmp_path / "absent").exists()


def test_plan_decides_with_any_template_but_launch_needs_an_approved_one(fresh: Path, tmp_path: Path) -> None:
    service = service_for(fresh)
    campaign = write_campaign(tmp_path, "planned", holdout_pct=20)
    plan = service.plan("ann", PlanRequest(campaign))
    assert plan.template_status == "unregistered" and plan.unapproved == (("wealth_welcome@1", "unregistered"),)
    assert plan.counts["excluded"] == 5 and plan.counts["send"] + plan.counts["holdout"] == len(CONSENTING)
    assert [step.step for step in plan.funnel][0] == "audience" and plan.funnel[0].remaining == 30
    assert plan.samples and all("@" not in s.first_line for s in plan.samples)
    assert plan.send_at == DECIDED_AT and plan.as_of == DECIDED_AT
    # The same decisions again: plans are reproducible.
    assert service.plan("mei", PlanRequest(campaign)).audience_sha256 == plan.audience_sha256
    with pytest.raises(ApprovalError, match="not registered; submit it first"):
        service.launch("mei", LaunchRequest(campaign))
    service.submit_template("mei", template_path("wealth_welcome", 1))
    with pytest.raises(ApprovalError, match="CN-APPROVAL-01: template wealth_welcome@1 is submitted, not approved"):
        service.launch("mei", LaunchRequest(campaign))
    with pytest.raises(PermissionDenied, match="may not campaign.launch"):
        service.launch("ann", LaunchRequest(campaign))
    # An as-of date is the end of that local day.
    dated = service.plan("ann", PlanRequest(campaign, as_of=date(2026, 2, 27)))
    assert dated.as_of == datetime(2026, 2, 27, 15, 59, 59, tzinfo=UTC)


def test_launch_before_send_at_is_refused_unless_sending_now(approved: Path, tmp_path: Path) -> None:
    campaign = write_campaign(tmp_path, "early")
    before = DECIDED_AT - timedelta(hours=1)
    service = service_for(approved, clock=lambda: before)
    with pytest.raises(ScheduleError) as refused:
        service.launch("mei", LaunchRequest(campaign))
    assert refused.value.send_at == DECIDED_AT and "scheduled for 2026-03-01T10:00:00+08:00" in str(refused.value)
    assert "campaign.launch" not in actions(approved)
    now = service.launch("mei", LaunchRequest(campaign, send_now=True))
    assert now.send_at == before and not now.live and now.outcome == "ok"
    assert now.batches == {"planned (dry run)": 1} and now.recipients_planned == now.counts["send"] == 25
    assert rows(approved, "SELECT count(*) FROM campaigns.outbox") == [(0,)]
    # After send_at, the launch decides for send_at itself.
    later = service_for(approved, clock=lambda: DECIDED_AT + timedelta(hours=1))
    assert later.launch("mei", LaunchRequest(campaign)).send_at == DECIDED_AT


def test_a_live_launch_sends_each_person_once(approved: Path, tmp_path: Path, server: FakeSendGrid) -> None:
    campaign = write_campaign(tmp_path, "live", holdout_pct=20)
    service = service_for(approved, server)
    first = service.launch("mei", LaunchRequest(campaign, live=True))
    assert first.outcome == "ok" and first.live and first.halted is None
    assert first.recipients_delivered == first.counts["send"] == len(server.recipients())
    sent = set(server.recipients())
    assert sent <= {email_of(u) for u in CONSENTING}
    again = service.launch("mei", LaunchRequest(campaign, live=True))
    assert again.outcome == "ok" and len(server.recipients()) == len(sent)
    assert TEST_KEY not in repr(first) + repr(again)
    assert TEST_KEY not in " ".join(str(r) for r in rows(approved, "SELECT * FROM campaigns.audit_log"))


def test_live_email_needs_a_key_and_an_unsubscribe_group_before_anyone_is_decided(approved: Path,
                                                                                  tmp_path: Path) -> None:
    campaign = write_campaign(tmp_path, "nokey")
    with pytest.raises(DeliverySetupError) as no_key:
        service_for(approved).launch("mei", LaunchRequest(campaign, live=True))
    assert no_key.value.setting == "sendgrid_api_key"
    no_group = CampaignService(partial(connect, approved), ROLES, DeliveryOptions(), sendgrid_api_key=TEST_KEY)
    with pytest.raises(DeliverySetupError) as missing:
        no_group.launch("mei", LaunchRequest(campaign, live=True))
    assert missing.value.setting == "sendgrid_asm_group" and TEST_KEY not in str(missing.value)
    tables = {t for (t,) in rows(approved, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'campaigns'")}
    assert "plans" not in tables and "outbox" not in tables


class _Killed(BaseException):
    """The launching process dies (no exception handler runs)."""


class _DiesAfterSendGridAccepts:
    """A SendGrid client whose process dies right after SendGrid accepted the request."""

    def __init__(self, api_key: str, config) -> None:
        self._real = sendgrid.SendGridAPIClient(api_key=api_key, host=config.host)
        self.client = self.mail = self.send = self

    def post(self, request_body):
        self._real.client.mail.send.post(request_body=request_body)
        raise _Killed


def _signed(events: list[dict]) -> tuple[str, bytes, dict[str, str]]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    body = json.dumps(events).encode()
    stamp = str(int(time.time()))
    signature = key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return public, body, {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                          "X-Twilio-Email-Event-Webhook-Timestamp": stamp}


def test_resend_unknown_needs_admin_and_reconcile_resolves_unknown_batches_from_stored_events(
        approved: Path, tmp_path: Path, server: FakeSendGrid) -> None:
    campaign = write_campaign(tmp_path, "crash")
    with pytest.raises(_Killed):
        service_for(approved, server, sendgrid_client_factory=_DiesAfterSendGridAccepts).launch(
            "mei", LaunchRequest(campaign, live=True))
    accepted = server.accepted[0]
    assert rows(approved, "SELECT state, count(*) FROM campaigns.outbox GROUP BY 1 ORDER BY 1") == [
        ("planned", 2), ("sending", 1)]
    # SendGrid reports a delivery of the batch while the ledger still says `sending`.
    event = {"event": "delivered", "timestamp": int(time.time()), "sg_event_id": "ev-d1",
             "member_ref": accepted.body["personalizations"][0]["custom_args"]["member_ref"],
             "sg_message_id": f"{accepted.message_id}.0", **accepted.body["custom_args"]}
    public, body, headers = _signed([event])
    service = service_for(approved, server, webhook_public_key=public)
    received = service.receive_webhook(body, headers)
    assert received.status == 200 and received.new_events == 1 and received.reconciled_batches == ()
    # The next launch cannot know the batch went out: unknown, never resent.
    resumed = service.launch("mei", LaunchRequest(campaign, live=True))
    assert resumed.outcome == "unknown" and resumed.unknown_batches == ("00000",)
    assert len(server.recipients()) == len(set(server.recipients())) == 25
    with pytest.raises(PermissionDenied, match="may not campaign.resend_unknown"):
        service.launch("mei", LaunchRequest(campaign, live=True, resend_unknown=True))
    with pytest.raises(PermissionDenied, match="may not campaign.reconcile"):
        service.reconcile("ann", "crash")
    reconciled = service.reconcile("mei", "crash")
    assert reconciled.reconciled_batches == ("00000",) and reconciled.unknown_batches == ()
    assert rows(approved, "SELECT DISTINCT state FROM campaigns.outbox") == [("accepted",)]
    assert actions(approved)[-2:] == ["delivery.reconciled", "campaign.reconcile"]
    assert service.reconcile("mei", "crash").reconciled_batches == ()
    # An admin may requeue unknown batches; with none left, nothing is sent again.
    admin = service.launch("ada", LaunchRequest(campaign, live=True, resend_unknown=True))
    assert admin.outcome == "ok" and len(server.recipients()) == 25
    with duckdb.connect(str(approved), read_only=True) as conn:
        assert verify_audit_chain(conn)


def test_receive_webhook_refuses_forgeries_before_opening_the_warehouse(fresh: Path, tmp_path: Path) -> None:
    event = {"event": "unsubscribe", "timestamp": int(time.time()), "sg_event_id": "ev-u1", "member_ref": "u03",
             "campaign_id": "first"}
    public, body, headers = _signed([event])
    other, _, _ = _signed([event])
    unopenable = CampaignService(partial(connect, tmp_path / "absent" / "w.duckdb"), ROLES, webhook_public_key=other)
    assert unopenable.receive_webhook(body, headers).status == 401
    assert not (tmp_path / "absent").exists()
    with pytest.raises(DeliverySetupError):
        CampaignService(partial(connect, fresh), ROLES).receive_webhook(body, headers)
    service = CampaignService(partial(connect, fresh), ROLES, webhook_public_key=public)
    first = service.receive_webhook(body, headers)
    assert first.status == 200 and first.suppressed == 1
    assert service.receive_webhook(body, headers).duplicates == 1
    assert rows(fresh, "SELECT user_id, reason FROM campaigns.suppressions") == [("u03", "unsubscribe")]


def test_a_busy_warehouse_is_a_typed_error(fresh: Path) -> None:
    def busy():
        raise duckdb.IOException("Could not set lock on file")

    with pytest.raises(StoreUnavailable):
        CampaignService(busy, ROLES).list_templates("ann")
