"""The campaign service end to end against a hand-built warehouse, its campaign store and the local SendGrid
server, roles resolved inside."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
import sendgrid
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from campaigns import (
    ApprovalError,
    BatchRequestError,
    CampaignService,
    DeliveryOptions,
    DeliverySetupError,
    LaunchRequest,
    PermissionDenied,
    PlanRequest,
    ScheduleError,
    StaleScheduleError,
    StoreUnavailable,
    template_path,
)
from campaigns.governance.access import StaticRoles
from campaigns.governance.audit_trail import verify_audit_chain
from campaigns.store.op_database import OpStore
from tests.campaigns.conftest import store_rows
from tests.campaigns.sendgrid_server import TEST_KEY, FakeSendGrid
from tests.pipelines.campaign_warehouse import (
    CONSENTING,
    DECIDED_AT,
    build_warehouse,
    email_of,
    recent_send_at,
    store_of,
    write_campaign,
)
from warehouse import connect

ROLES = StaticRoles({"mei": "marketer", "chen": "compliance", "ada": "admin", "ann": "analyst"})
# Five minutes after the hand-built campaigns' send_at (2026-03-01 10:00 Shanghai).
SOON_AFTER = DECIDED_AT + timedelta(minutes=5)


def service_for(warehouse: Path, server: FakeSendGrid | None = None, clock=lambda: SOON_AFTER, **options
                ) -> CampaignService:
    delivery = DeliveryOptions(asm_group=101, host=server.base_url, batch_size=10,
                               timeout_seconds=2) if server else DeliveryOptions()
    options.setdefault("sendgrid_api_key", TEST_KEY if server else None)
    store = options.pop("store", None) or store_of(warehouse)
    return CampaignService(partial(connect, warehouse, read_only=True), store, ROLES, options.pop("delivery", delivery),
                           sleep=lambda seconds: None, clock=clock, **options)


def rows(warehouse: Path, sql: str) -> list[tuple]:
    return store_rows(store_of(warehouse), sql)


def actions(warehouse: Path) -> list[str]:
    return [a for (a,) in rows(warehouse, "SELECT action FROM audit_log ORDER BY seq")]


def chain_holds(warehouse: Path) -> bool:
    with store_of(warehouse).transaction() as conn:
        return verify_audit_chain(conn)


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A warehouse with no template registered yet."""
    return build_warehouse(tmp_path / "w.duckdb", approve=False)


@pytest.fixture
def approved(tmp_path: Path) -> Path:
    """A warehouse whose campaign store has wealth_welcome@1 submitted and approved."""
    return build_warehouse(tmp_path / "w.duckdb")


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    fake = FakeSendGrid().start()
    yield fake
    fake.stop()


def own_template(folder: Path, template_id: str, version: int = 1, edit: tuple[str, str] | None = None) -> Path:
    path = folder / f"{template_id}_v{version}.yaml"
    text = (template_path("wealth_welcome", 1).read_text(encoding="utf-8")
            .replace("template_id: wealth_welcome", f"template_id: {template_id}")
            .replace("version: 1", f"version: {version}"))
    if edit:
        text = text.replace(*edit)
    path.write_text(text, encoding="utf-8")
    return path


def test_maker_checker_through_the_service(fresh: Path, tmp_path: Path) -> None:
    service = service_for(fresh)
    submitted = service.submit_template("mei", template_path("wealth_welcome", 1))
    assert submitted.template_key == "wealth_welcome@1" and submitted.author == "mei" and submitted.lint.passed
    assert submitted.status == "submitted"
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
    # Every refusal and every denial is in the audit trail, between the decisions.
    assert actions(fresh) == ["template.submit", "access.denied", "access.denied", "template.submit",
                              "template.approve_refused", "template.approve", "access.denied", "access.denied",
                              "template.reject_refused", "template.reject"]
    denials = rows(fresh, "SELECT actor, subject, details_json FROM audit_log WHERE action = 'access.denied' ORDER BY seq")
    assert [(actor, subject) for actor, subject, _ in denials] == [
        ("mei", "wealth_welcome@1"), ("chen", str(template_path("wealth_welcome", 1))), ("mallory", "template.list"),
        ("<none>", "template.list")]
    assert "maker-checker" in rows(fresh, "SELECT details_json FROM audit_log WHERE action = 'template.approve_refused'")[0][0]
    assert chain_holds(fresh)


def test_review_from_the_command_line_show_diff_and_acknowledged_findings(fresh: Path, tmp_path: Path) -> None:
    service = service_for(fresh)
    opt_out = "如需关闭个性化推荐，请在App“设置-隐私-个性化推荐”中关闭。"
    first = service.submit_template("mei", own_template(tmp_path, "wealth_review", 1, edit=(opt_out, "")))
    assert first.status == "submitted" and [f.finding_id for f in first.lint.review] == ["CN-PI-01.1"]
    shown = service.show_template("chen", "wealth_review", 1)
    assert shown.status.status == "submitted" and shown.author == "mei"
    assert shown.preview.subject.startswith("【广告】") and "SAMPLE-0001" in shown.preview.text_body
    assert "理财非存款" in shown.preview.html_as_text and "<p>" not in shown.preview.html_as_text
    assert [f.finding_id for f in shown.lint.review] == ["CN-PI-01.1"]
    with pytest.raises(ApprovalError, match="CN-PI-01.1"):
        service.approve_template("chen", "wealth_review", 1)
    approved = service.approve_template("chen", "wealth_review", 1, acknowledged=["CN-PI-01.1"])
    assert approved.acknowledged == ("CN-PI-01.1",)
    second = service.submit_template("mei", own_template(tmp_path, "wealth_review", 2, edit=("稳健型", "进取型")))
    assert second.template_key == "wealth_review@2"
    diff = service.diff_templates("ann", "wealth_review", 2)
    assert diff.from_key == "wealth_review@1" and any(line.startswith("+") and "进取型" in line for line in diff.lines)
    refused = rows(fresh, "SELECT details_json FROM audit_log WHERE action = 'template.approve_refused'")
    assert len(refused) == 1 and "CN-PI-01.1" in refused[0][0]


def test_an_edit_filed_under_a_registered_version_is_refused_and_a_blocked_submission_is_marked_blocked(
        fresh: Path, tmp_path: Path) -> None:
    service = service_for(fresh)
    service.submit_template("mei", template_path("wealth_welcome", 1))
    assert service.submit_template("mei", template_path("wealth_welcome", 1)).status == "unchanged"
    edited = own_template(tmp_path, "wealth_welcome", 1, edit=("稳健型", "进取型"))
    with pytest.raises(ApprovalError, match="already registered with other content.*as version 2"):
        service.submit_template("mei", edited)
    assert [(t.template_id, t.version) for t in service.list_templates("ann")] == [("wealth_welcome", 1)]
    blocked = service.submit_template("mei", own_template(tmp_path, "wealth_bad", 1,
                                                          edit=("感谢您关注", "本产品保本保收益，感谢您关注")))
    assert blocked.status == "blocked" and not blocked.lint.passed
    assert {t.template_id: t.status.status for t in service.list_templates("ann")}["wealth_bad"] == "blocked"
    with pytest.raises(ApprovalError, match="blocked by its lint.*CN-AD-01"):
        service.approve_template("chen", "wealth_bad", 1)
    assert actions(fresh).count("template.submit_refused") == 1
    assert actions(fresh).count("template.approve_refused") == 1


def test_lint_needs_a_role_but_no_warehouse(tmp_path: Path) -> None:
    store = OpStore(f"sqlite:///{tmp_path / 'store' / 'campaigns.sqlite3'}")
    service = CampaignService(partial(connect, tmp_path / "absent" / "w.duckdb"), store, ROLES)
    bad = own_template(tmp_path, "wealth_bad", edit=("感谢您关注", "本产品保本保收益，感谢您关注"))
    report = service.lint_template("ann", bad)
    assert not report.passed and "CN-AD-01" in {f.rule_id for f in report.blocking}
    assert service.lint_template("ann", template_path("wealth_welcome", 1)).passed
    with pytest.raises(PermissionDenied):
        service.lint_template("nobody", bad)
    assert not (tmp_path / "absent").exists()
    assert store_rows(store, "SELECT actor, action FROM audit_log") == [("nobody", "access.denied")]


def test_plan_decides_with_any_template_but_launch_needs_an_approved_one(fresh: Path, tmp_path: Path) -> None:
    service = service_for(fresh)
    campaign = write_campaign(tmp_path, "planned", holdout_pct=20)
    plan = service.plan("ann", PlanRequest(campaign))
    assert plan.template_status == "unregistered" and plan.unapproved == (("wealth_welcome@1", "unregistered"),)
    assert plan.counts["excluded"] == 5 and plan.counts["send"] + plan.counts["holdout"] == len(CONSENTING)
    assert [step.step for step in plan.funnel][:2] == ["audience", "CN-CONTACT-01"] and plan.funnel[0].remaining == 30
    assert plan.samples and not any(email_of(u) in s.text_body for s in plan.samples for u in CONSENTING)
    # Whole messages, not their first line.
    assert all("理财非存款、产品有风险、投资须谨慎" in s.text_body and "退订" in s.text_body for s in plan.samples)
    assert plan.send_at == DECIDED_AT and plan.as_of == DECIDED_AT and plan.timezone == "Asia/Shanghai"
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
    assert "campaign.launch" not in actions(approved) and "campaign.launch_refused" in actions(approved)
    now = service.launch("mei", LaunchRequest(campaign, send_now=True))
    assert now.send_at == before and not now.live and now.outcome == "ok"
    assert now.batches == {"planned (dry run)": 1} and now.recipients_planned == now.counts["send"] == 25
    assert rows(approved, "SELECT count(*) FROM outbox") == [(0,)]
    # After send_at, the launch decides for send_at itself.
    later = service_for(approved, clock=lambda: DECIDED_AT + timedelta(hours=1))
    assert later.launch("mei", LaunchRequest(campaign)).send_at == DECIDED_AT


def test_a_send_at_past_the_grace_is_refused_until_replanned(approved: Path, tmp_path: Path) -> None:
    campaign = write_campaign(tmp_path, "stale")
    months_later = service_for(approved, clock=lambda: DECIDED_AT + timedelta(days=120))
    with pytest.raises(StaleScheduleError, match="more than 24 hour"):
        months_later.launch("mei", LaunchRequest(campaign, live=False))
    plan = months_later.plan("mei", PlanRequest(campaign))
    assert any("launch refuses it" in note for note in plan.notes)
    # Sending now judges every rule for now instead.
    assert months_later.launch("mei", LaunchRequest(campaign, send_now=True)).outcome == "ok"
    # Within the grace the schedule stands.
    assert service_for(approved, clock=lambda: DECIDED_AT + timedelta(hours=20)).launch(
        "mei", LaunchRequest(campaign)).send_at == DECIDED_AT


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
    assert TEST_KEY not in " ".join(str(r) for r in rows(approved, "SELECT * FROM audit_log"))
    status = service.campaign_status("ann", "live")
    assert status.states == {"accepted": 3} and all(b.events == 0 for b in status.batches)


def test_an_empty_live_send_is_a_normal_outcome_with_its_reasons(approved: Path, tmp_path: Path,
                                                                 server: FakeSendGrid) -> None:
    campaign = write_campaign(tmp_path, "nobody", frequency_cap=None, segment={"rfm_segment": ["Champions"]},
                              **{"name": "nobody"})
    # 23:00 in Shanghai: quiet hours exclude everyone.
    late = service_for(approved, server, clock=lambda: DECIDED_AT + timedelta(hours=13))
    result = late.launch("mei", LaunchRequest(campaign, live=True, send_now=True))
    assert result.outcome == "ok" and result.to_send == 0 and server.accepted == []
    assert result.reasons["CN-FREQ-02:quiet_hours"] == 15 and result.batches == {}
    assert rows(approved, "SELECT count(*) FROM outbox") == [(0,)]
    # Later in the morning the same campaign sends normally: nobody was frozen out for a passing reason.
    morning = service_for(approved, server, clock=lambda: DECIDED_AT + timedelta(hours=24))
    assert morning.launch("mei", LaunchRequest(campaign, live=True, send_now=True)).recipients_delivered == 12


def test_live_email_needs_a_key_and_an_unsubscribe_group_before_anyone_is_decided(approved: Path,
                                                                                  tmp_path: Path) -> None:
    campaign = write_campaign(tmp_path, "nokey")
    with pytest.raises(DeliverySetupError) as no_key:
        service_for(approved).launch("mei", LaunchRequest(campaign, live=True))
    assert no_key.value.setting == "sendgrid_api_key"
    no_group = service_for(approved, delivery=DeliveryOptions(), sendgrid_api_key=TEST_KEY)
    with pytest.raises(DeliverySetupError) as missing:
        no_group.launch("mei", LaunchRequest(campaign, live=True))
    assert missing.value.setting == "sendgrid_asm_group" and TEST_KEY not in str(missing.value)
    assert rows(approved, "SELECT count(*) FROM plans") == [(0,)] and rows(approved, "SELECT count(*) FROM outbox") == [(0,)]


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


def signing_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    return key, public


def signed(key, events: list, stamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(events).encode()
    stamp = stamp or int(time.time())
    signature = key.sign(str(stamp).encode() + body, ec.ECDSA(hashes.SHA256()))
    return body, {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                  "X-Twilio-Email-Event-Webhook-Timestamp": str(stamp)}


def delivered(accepted, index: int = 0) -> dict:
    return {"event": "delivered", "timestamp": int(time.time()), "sg_event_id": f"ev-{accepted.message_id}-{index}",
            "member_ref": accepted.body["personalizations"][index]["custom_args"]["member_ref"],
            "sg_message_id": f"{accepted.message_id}.filter0.{index}", **accepted.body["custom_args"]}


def test_an_event_that_arrived_while_sending_settles_the_batch_at_relaunch_and_blocks_a_duplicate_resend(
        approved: Path, tmp_path: Path, server: FakeSendGrid) -> None:
    """The killed launch's batch was accepted and its events arrived while the ledger said `sending`: the relaunch
    consults that evidence, sends only the rest, and an admin cannot resend the batch."""
    campaign = write_campaign(tmp_path, "crash", send_at=recent_send_at())
    real_time = datetime.now
    with pytest.raises(_Killed):
        service_for(approved, server, clock=lambda: real_time(UTC),
                    sendgrid_client_factory=_DiesAfterSendGridAccepts).launch("mei", LaunchRequest(campaign, live=True))
    accepted = server.accepted[0]
    assert rows(approved, "SELECT state, count(*) FROM outbox GROUP BY 1 ORDER BY 1") == [("planned", 2), ("sending", 1)]
    key, public = signing_key()
    service = service_for(approved, server, clock=lambda: real_time(UTC), webhook_public_key=public)
    body, headers = signed(key, [delivered(accepted, i) for i in range(3)])
    received = service.receive_webhook(body, headers)
    assert received.status == 200 and received.new_events == 3 and received.reconciled_batches == ("00000",)
    status = service.campaign_status("ann", "crash")
    assert status.batches[0].state == "accepted" and status.batches[0].events == 3
    # The relaunch sends the two planned batches only: 25 people, each once.
    resumed = service.launch("mei", LaunchRequest(campaign, live=True))
    assert resumed.outcome == "ok" and resumed.unknown_batches == ()
    assert len(server.recipients()) == len(set(server.recipients())) == 25
    with pytest.raises(PermissionDenied, match="may not campaign.resend_unknown"):
        service.launch("mei", LaunchRequest(campaign, live=True, resend_unknown=("00000",)))
    with pytest.raises(BatchRequestError, match="not unknown"):
        service.launch("ada", LaunchRequest(campaign, live=True, resend_unknown=("00000",)))
    assert len(server.recipients()) == 25
    assert "access.denied" in actions(approved) and "delivery.operator_resend_unknown_refused" in actions(approved)
    assert chain_holds(approved)


def test_reconcile_settles_unknown_batches_from_evidence_and_resends_the_rest_once(
        approved: Path, tmp_path: Path, server: FakeSendGrid) -> None:
    campaign = write_campaign(tmp_path, "faults", send_at=recent_send_at())
    real_time = datetime.now
    server.script(("status", 500), ("drop_after_accept",))
    key, public = signing_key()
    service = service_for(approved, server, clock=lambda: real_time(UTC), webhook_public_key=public)
    first = service.launch("mei", LaunchRequest(campaign, live=True))
    assert first.outcome == "unknown" and first.unknown_batches == ("00000", "00001")
    dropped = server.accepted[0]  # the request answered by a dropped connection was accepted
    assert service.receive_webhook(*signed(key, [delivered(dropped)])).reconciled_batches == ("00001",)
    # Within the wait, reconcile leaves the 500 batch alone; after it, resends it once, with the evidence audited.
    waiting = service.reconcile("mei")
    assert waiting.unknown_batches == ("faults/00000",) and waiting.resent_batches == ()
    later = service_for(approved, server, clock=lambda: real_time(UTC) + timedelta(minutes=31))
    done = later.reconcile("mei")
    assert done.resent_batches == ("faults/00000",) and done.unknown_batches == ()
    assert len(server.recipients()) == len(set(server.recipients())) == 25
    assert later.campaign_status("ann", "faults").states == {"accepted": 3}
    assert later.reconcile("mei").decisions == ()
    assert [a for a in actions(approved) if a.startswith("delivery.")] == [
        "delivery.unknown", "delivery.unknown", "delivery.reconciled", "delivery.resend_unknown"]


def test_receive_webhook_refuses_forgeries_before_opening_any_store(fresh: Path, tmp_path: Path) -> None:
    event = {"event": "unsubscribe", "timestamp": int(time.time()), "sg_event_id": "ev-u1", "member_ref": "u03",
             "campaign_id": "first"}
    key, public = signing_key()
    _, other = signing_key()
    body, headers = signed(key, [event])
    untouched = OpStore(f"sqlite:///{tmp_path / 'untouched' / 'campaigns.sqlite3'}")
    unopenable = CampaignService(partial(connect, tmp_path / "absent" / "w.duckdb"), untouched, ROLES,
                                 webhook_public_key=other)
    assert unopenable.receive_webhook(body, headers).status == 401
    assert unopenable.receive_webhook(body, {}).status == 401
    assert not (tmp_path / "absent").exists() and not (tmp_path / "untouched").exists()
    with pytest.raises(DeliverySetupError):
        service_for(fresh).receive_webhook(body, headers)
    service = service_for(fresh, webhook_public_key=public, clock=lambda: datetime.now(UTC))
    first = service.receive_webhook(body, headers)
    assert first.status == 200 and first.suppressed == 1
    assert service.receive_webhook(body, headers).duplicates == 1
    assert rows(fresh, "SELECT user_id, reason FROM suppressions") == [("u03", "unsubscribe")]


def test_a_busy_warehouse_is_a_typed_error(fresh: Path, tmp_path: Path) -> None:
    import duckdb

    def busy():
        raise duckdb.IOException("Could not set lock on file")

    service = CampaignService(busy, store_of(fresh), ROLES, clock=lambda: SOON_AFTER)
    with pytest.raises(StoreUnavailable):
        service.plan("ann", PlanRequest(write_campaign(tmp_path, "busy")))


def test_on_either_store_a_rejected_batch_is_retried_by_an_admin_after_a_fix(op_store, tmp_path: Path,
                                                                             server: FakeSendGrid) -> None:
    """A 4xx-rejected batch has a retry path short of a new campaign (SQLite and Postgres stores alike)."""
    from tests.pipelines.campaign_warehouse import approve_shipped

    warehouse = build_warehouse(tmp_path / "w.duckdb", approve=False)
    approve_shipped(op_store)
    campaign = write_campaign(tmp_path, "rejected", send_at=recent_send_at())
    real_time = datetime.now
    service = service_for(warehouse, server, store=op_store, clock=lambda: real_time(UTC))
    server.script(("status", 400, json.dumps({"errors": [{"message": "bad u01@example.test", "field": None}]}).encode()))
    first = service.launch("mei", LaunchRequest(campaign, live=True))
    assert first.outcome == "failed" and first.batches == {"failed": 1, "accepted": 2}
    assert "example.test" not in " ".join(str(r) for r in store_rows(op_store, "SELECT * FROM outbox"))
    assert service.launch("mei", LaunchRequest(campaign, live=True)).outcome == "failed"  # never retried by itself
    with pytest.raises(PermissionDenied, match="campaign.retry_failed"):
        service.launch("mei", LaunchRequest(campaign, live=True, retry_failed=("00000",)))
    with pytest.raises(BatchRequestError, match="00001.*not failed"):
        service.launch("ada", LaunchRequest(campaign, live=True, retry_failed=("00001",)))
    retried = service.launch("ada", LaunchRequest(campaign, live=True, retry_failed=("00000",)))
    assert retried.outcome == "ok" and len(server.recipients()) == len(set(server.recipients())) == 25
    assert "delivery.retry_failed" in [a for (a,) in store_rows(op_store, "SELECT action FROM audit_log")]
