"""A smoke layer over the real CLI on a warehouse built by `fingrowth run`, against a local SendGrid server.

The use cases themselves are tested through the service (`tests/campaigns/test_campaigns_service.py`);
here: the commands' output and exit codes, a real process killed mid-send, and the rules on real data.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from assets.graph import WAREHOUSE_TABLES
from campaigns.definitions.shipped_library import template_path
from pipelines.campaign_wiring import campaign_service
from pipelines.settings import Settings
from tests.campaigns.sendgrid_server import TEST_KEY, FakeSendGrid

ROLES = "users:\n  mei: marketer\n  chen: compliance\n  ada: admin\n  ann: analyst\n"
# 10:00 in Shanghai the day after the sample data ends: outside quiet hours, and already past.
SEND_AT = "2026-07-01T10:00:00+08:00"
ALL_SEGMENTS = ["Champions", "Loyal", "At risk", "Potential loyalist", "No purchase", "Cannot lose them",
                "About to sleep", "Need attention", "Hibernating", "Lost", "Promising", "New customers"]


@pytest.fixture(scope="module")
def built(tmp_path_factory, sample_run) -> Path:
    """A copy of the session's sample warehouse with the template approved."""
    workdir = tmp_path_factory.mktemp("campaign_cli")
    shutil.copy(sample_run.warehouse, workdir / "w.duckdb")
    (workdir / "roles.yaml").write_text(ROLES, encoding="utf-8")
    submitted = _cli(workdir, "mei", "template", "submit", str(template_path("wealth_welcome", 1)))
    assert submitted.returncode == 0, submitted.stderr
    approved = _cli(workdir, "chen", "template", "approve", "wealth_welcome", "1")
    assert approved.returncode == 0, approved.stderr
    return workdir


@pytest.fixture
def work(built, tmp_path) -> Path:
    shutil.copy(built / "w.duckdb", tmp_path / "w.duckdb")
    shutil.copy(built / "roles.yaml", tmp_path / "roles.yaml")
    for name, segments in (("everyone", ALL_SEGMENTS), ("second", ALL_SEGMENTS)):
        (tmp_path / f"{name}.yaml").write_text(json.dumps({
            "campaign_id": f"cli_{name}", "name": name, "segment": {"rfm_segment": segments},
            "template": {"id": "wealth_welcome", "version": 1}, "channel": "email", "purpose": "marketing",
            "holdout_pct": 10, "send_at": SEND_AT}, ensure_ascii=False), encoding="utf-8")
    return tmp_path


@pytest.fixture
def server():
    fake = FakeSendGrid().start()
    yield fake
    fake.stop()


def _env(workdir: Path, user: str, server: FakeSendGrid | None = None, batch_size: int = 40) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINGROWTH_", "SENDGRID_"))}
    env.update(DAGSTER_HOME=str(workdir / "dagster_home"), NO_PROXY="127.0.0.1,localhost", PYTHONUNBUFFERED="1",
               FINGROWTH_USER=user, FINGROWTH_ROLES=str(workdir / "roles.yaml"),
               FINGROWTH_WAREHOUSE=str(workdir / "w.duckdb"))
    if server is not None:
        env.update(SENDGRID_API_KEY=TEST_KEY, FINGROWTH_SENDGRID_HOST=server.base_url,
                   FINGROWTH_SENDGRID_ASM_GROUP="101", FINGROWTH_SENDGRID_BATCH_SIZE=str(batch_size),
                   FINGROWTH_SENDGRID_TIMEOUT="20")
    return env


def _cli(workdir: Path, user: str, *args: str, server: FakeSendGrid | None = None) -> subprocess.CompletedProcess:
    (workdir / "dagster_home").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=workdir, env=_env(workdir, user, server),
                          capture_output=True, text=True, timeout=300, check=False)


def _query(workdir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(workdir / "w.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _emails_of(workdir: Path, decision: str, campaign: str) -> set[str]:
    return {r[0] for r in _query(workdir, (
        "SELECT lower(c.email) FROM campaigns.plan_decisions d JOIN private.user_contacts c USING (user_id) "
        f"WHERE d.decision = '{decision}' AND d.campaign_id = '{campaign}' AND d.plan_id = (SELECT plan_id FROM "
        f"campaigns.plans WHERE campaign_id = '{campaign}' ORDER BY planned_at DESC LIMIT 1)"))}


@pytest.mark.slow
def test_replan_gives_the_same_audience_and_split(work) -> None:
    first = _cli(work, "mei", "campaign", "plan", "everyone.yaml")
    second = _cli(work, "ann", "campaign", "plan", "everyone.yaml")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    digest = [line for line in first.stdout.splitlines() if line.startswith("audience_sha256")]
    assert digest and digest == [line for line in second.stdout.splitlines() if line.startswith("audience_sha256")]
    plans = _query(work, "SELECT plan_id FROM campaigns.plans ORDER BY planned_at")
    a, b = (set(_query(work, f"SELECT user_id, decision, reason_codes FROM campaigns.plan_decisions WHERE plan_id = '{p}'"))
            for (p,) in plans)
    assert a == b and {d for _, d, _ in a} == {"send", "holdout", "excluded"}
    assert "CN-EM-01" in first.stdout and "nothing sent" in first.stdout
    # Analysts may plan but never launch.
    denied = _cli(work, "ann", "campaign", "launch", "everyone.yaml")
    assert denied.returncode == 4 and "may not campaign.launch" in denied.stderr
    # A live e-mail launch without a key is refused before anyone is decided, naming where to set it.
    keyless = _cli(work, "mei", "campaign", "launch", "everyone.yaml", "--live")
    assert keyless.returncode == 2 and "SENDGRID_API_KEY" in keyless.stderr
    assert _query(work, "SELECT kind, count(*) FROM campaigns.plans GROUP BY 1") == [("plan", 2)]


@pytest.mark.slow
def test_template_approval_through_the_cli(work, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(template_path("wealth_welcome", 1).read_text(encoding="utf-8")
                   .replace("template_id: wealth_welcome", "template_id: wealth_bad")
                   .replace("感谢您关注", "本产品保本保收益，感谢您关注"), encoding="utf-8")
    submitted = _cli(work, "mei", "template", "submit", str(bad))
    assert submitted.returncode == 1 and "CN-AD-01" in submitted.stdout
    own = _cli(work, "ada", "template", "approve", "wealth_bad", "1")
    assert own.returncode == 1 and "CN-AD-01" in own.stderr
    listed = _cli(work, "ann", "template", "list")
    assert "wealth_welcome@1 approved" in listed.stdout and "wealth_bad@1 submitted" in listed.stdout
    # A campaign on an unapproved template cannot launch, not even as a dry run.
    (work / "bad_campaign.yaml").write_text((work / "everyone.yaml").read_text().replace('"wealth_welcome"', '"wealth_bad"'))
    refused = _cli(work, "mei", "campaign", "launch", "bad_campaign.yaml")
    assert refused.returncode == 1 and "CN-APPROVAL-01" in refused.stderr


@pytest.mark.slow
def test_crash_and_resume_never_duplicates_and_never_reaches_the_excluded(work, server) -> None:
    # The third request is accepted and then hangs; the launcher is killed while waiting for the answer.
    server.script(("pass",), ("pass",), ("hang_after_accept",))
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "campaign", "launch", "everyone.yaml", "--live"],
                            cwd=work, env=_env(work, "mei", server), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while server.accepted_count() < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    crashed_with = server.accepted_count()
    assert crashed_with == 3
    states = dict(_query(work, "SELECT state, count(*) FROM campaigns.outbox GROUP BY 1"))
    assert states.get("sending") == 1 and states.get("planned", 0) > 0

    resumed = _cli(work, "mei", "campaign", "launch", "everyone.yaml", "--live", server=server)
    assert resumed.returncode == 3, resumed.stdout + resumed.stderr
    assert "NOT resent automatically" in resumed.stderr
    recipients = server.recipients()
    assert len(recipients) == len(set(recipients)), "somebody received the campaign twice"
    sends = _emails_of(work, "send", "cli_everyone")
    assert set(recipients) == sends  # the hung batch was accepted before the crash; all others after
    excluded = _emails_of(work, "excluded", "cli_everyone") | _emails_of(work, "holdout", "cli_everyone")
    assert excluded and not excluded & set(recipients)
    minors = {r[0] for r in _query(work, "SELECT lower(email) FROM private.user_contacts "
                                         "WHERE birth_date > DATE '2008-06-30' OR birth_date IS NULL")}
    assert not minors & set(recipients)
    assert TEST_KEY not in resumed.stdout + resumed.stderr
    assert not any(email in resumed.stdout + resumed.stderr for email in recipients)
    # A third launch sends nothing more.
    again = _cli(work, "mei", "campaign", "launch", "everyone.yaml", "--live", server=server)
    assert again.returncode == 3 and len(server.recipients()) == len(recipients)
    # No provider event names the hung batch yet: reconciling leaves it unknown.
    unresolved = _cli(work, "mei", "campaign", "reconcile", "cli_everyone")
    assert unresolved.returncode == 3 and "reconciled 0 batch(es)" in unresolved.stdout
    assert "still unknown: " in unresolved.stderr
    # Every table a launch leaves in the warehouse belongs to a declared (external) asset.
    tables = {f"{s}.{t}" for s, t in _query(work, "SELECT table_schema, table_name FROM information_schema.tables")}
    assert tables - {t.table for t in WAREHOUSE_TABLES} == set()


def _signing_key():
    key = ec.generate_private_key(ec.SECP256R1())
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    return key, public


def _signed(key, events: list[dict]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(events).encode()
    stamp = int(time.time())
    signature = key.sign(str(stamp).encode() + body, ec.ECDSA(hashes.SHA256()))
    return body, {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                  "X-Twilio-Email-Event-Webhook-Timestamp": str(stamp)}


@pytest.mark.slow
def test_webhook_unsubscribe_is_honoured_by_the_next_campaign(work, server) -> None:
    first = _cli(work, "mei", "campaign", "launch", "everyone.yaml", "--live", server=server)
    assert first.returncode == 0, first.stderr
    accepted = server.accepted[0]
    leaving = accepted.body["personalizations"][0]
    email, member = leaving["to"][0]["email"].lower(), leaving["custom_args"]["member_ref"]
    key, public = _signing_key()
    event = {"email": email, "timestamp": int(time.time()), "event": "unsubscribe", "sg_event_id": "ev-1",
             "sg_message_id": f"{accepted.message_id}.filter0.0", "member_ref": member,
             **accepted.body["custom_args"]}
    body, headers = _signed(key, [event])
    # Forged, stale and tampered deliveries: tests/pipelines/test_pipelines_webhook_server.py.
    service = campaign_service(Settings(warehouse=work / "w.duckdb", sendgrid_webhook_public_key=public))
    result = service.receive_webhook(body, headers)
    assert result.status == 200 and result.suppressed == 1
    # Redelivery, even under a new sg_event_id, is recorded once.
    again_body, again_headers = _signed(key, [{**event, "sg_event_id": "ev-2"}])
    assert service.receive_webhook(again_body, again_headers).duplicates == 1
    assert _query(work, "SELECT user_id, reason FROM campaigns.suppressions") == [(member, "unsubscribe")]
    assert email not in " ".join(str(r) for r in _query(work, "SELECT * FROM campaigns.webhook_events"))
    before = len(server.recipients())
    second = _cli(work, "mei", "campaign", "launch", "second.yaml", "--live", server=server)
    assert second.returncode == 0, second.stderr
    assert email not in server.recipients()[before:] and len(server.recipients()) > before
    reasons = _query(work, "SELECT reason_codes FROM campaigns.plan_decisions WHERE campaign_id = 'cli_second' "
                           f"AND user_id = '{member}'")
    assert reasons and all("CN-EM-04:suppressed_unsubscribe" in r[0] for r in reasons)


def _campaign_file(work: Path, name: str, **fields) -> str:
    data = {"campaign_id": f"cli_{name}", "name": name, "segment": {"rfm_segment": ALL_SEGMENTS},
            "template": {"id": "wealth_welcome", "version": 1}, "channel": "email", "purpose": "marketing",
            "holdout_pct": 10, "send_at": SEND_AT}
    data.update(fields)
    (work / f"{name}.yaml").write_text(json.dumps({k: v for k, v in data.items() if v is not None}, ensure_ascii=False),
                                       encoding="utf-8")
    return f"{name}.yaml"


def _approve(work: Path, template_id: str, version: int) -> None:
    submitted = _cli(work, "mei", "template", "submit", str(template_path(template_id, version)))
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    approved = _cli(work, "chen", "template", "approve", template_id, str(version))
    assert approved.returncode == 0, approved.stderr


@pytest.mark.slow
def test_frequency_cap_counts_the_previous_campaign_and_sms_exports_exactly_once(work, server) -> None:
    first = _cli(work, "mei", "campaign", "launch", "everyone.yaml", "--live", server=server)
    assert first.returncode == 0, first.stderr
    emailed = {m for (m,) in _query(work, "SELECT r.user_id FROM campaigns.outbox_recipients r JOIN campaigns.outbox o "
                                          "USING (campaign_id, batch_id) WHERE o.state = 'accepted' "
                                          "AND r.skipped_reason IS NULL")}
    assert emailed
    # A campaign allowing one message a week excludes everyone the first campaign reached, citing CN-FREQ-01.
    capped = _cli(work, "mei", "campaign", "plan", _campaign_file(work, "capped", frequency_cap={
        "max_messages": 1, "days": 7}))
    assert capped.returncode == 0, capped.stderr
    decided = dict(_query(work, "SELECT user_id, reason_codes FROM campaigns.plan_decisions WHERE campaign_id = 'cli_capped'"))
    assert all("CN-FREQ-01:frequency_cap_exceeded" in decided[m] for m in emailed)
    assert any("CN-FREQ-01" not in codes for codes in decided.values())

    _approve(work, "wealth_welcome_sms", 1)
    sms = _campaign_file(work, "sms", template={"id": "wealth_welcome_sms", "version": 1}, channel="sms")
    exported = [_cli(work, "mei", "campaign", "launch", sms, "--live", "--out", "exports") for _ in range(2)]
    assert all(run.returncode == 0 for run in exported), exported[0].stderr + exported[1].stderr
    assert "exported to vendor files" in exported[0].stdout
    files = sorted((work / "exports" / "cli_sms").glob("*.csv"))
    rows = [line.split(",")[0] for f in files for line in f.read_text(encoding="utf-8").splitlines()[1:]]
    assert rows and len(rows) == len(set(rows))  # nobody twice, across two launches
    ledger = _query(work, "SELECT count(*) FROM campaigns.outbox_recipients r JOIN campaigns.outbox o "
                          "USING (campaign_id, batch_id) WHERE campaign_id = 'cli_sms' AND o.state = 'exported' "
                          "AND r.skipped_reason IS NULL")[0][0]
    assert ledger == len(rows)
    # CN residents without cross-border consent: excluded for SendGrid (US), messaged through the domestic SMS vendor.
    no_cross_border = {u for (u,) in _query(work, "SELECT user_id FROM campaigns.plan_decisions WHERE "
                                                  "campaign_id = 'cli_everyone' AND reason_codes LIKE '%CN-PI-02%'")}
    assert no_cross_border & set(rows)
    assert not any("CN-PI-02" in codes for (codes,) in _query(
        work, "SELECT reason_codes FROM campaigns.plan_decisions WHERE campaign_id = 'cli_sms'"))
    phones = {p for (p,) in _query(work, "SELECT phone FROM private.user_contacts WHERE phone IS NOT NULL")}
    assert not any(phone in exported[0].stdout + exported[0].stderr for phone in phones)


@pytest.mark.slow
def test_schedule_and_ab_variants_through_the_cli(work) -> None:
    future = _campaign_file(work, "future", send_at="2099-01-01T10:00:00+08:00")
    refused = _cli(work, "mei", "campaign", "launch", future)
    assert refused.returncode == 1 and "scheduled for 2099-01-01T10:00:00+08:00" in refused.stderr
    assert "--now" in refused.stderr
    planned = _cli(work, "mei", "campaign", "plan", future)
    assert planned.returncode == 0 and "for sending at 2099-01-01T02:00:00+00:00" in planned.stdout

    _approve(work, "wealth_welcome", 2)
    ab = _campaign_file(work, "ab", template=None, variants=[
        {"name": "A", "template": {"id": "wealth_welcome", "version": 1}, "weight": 50},
        {"name": "B", "template": {"id": "wealth_welcome", "version": 2}, "weight": 50}])
    plan = _cli(work, "mei", "campaign", "plan", ab)
    assert plan.returncode == 0, plan.stderr
    counts = dict(_query(work, "SELECT variant, count(*) FROM campaigns.plan_decisions WHERE campaign_id = 'cli_ab' "
                               "AND decision = 'send' GROUP BY 1"))
    assert set(counts) == {"A", "B"} and all(n > 0 for n in counts.values())
    assert f"send={counts['A']}" in plan.stdout and f"send={counts['B']}" in plan.stdout
    launch = _cli(work, "mei", "campaign", "launch", ab)  # dry run
    assert launch.returncode == 0 and f"variants A={counts['A']}, B={counts['B']}" in launch.stdout
    # A variant whose template is not approved stops the launch.
    unapproved = _campaign_file(work, "ab_bad", template=None, variants=[
        {"name": "A", "template": {"id": "wealth_welcome", "version": 1}, "weight": 50},
        {"name": "C", "template": {"id": "wealth_welcome", "version": 3}, "weight": 50}])
    stopped = _cli(work, "mei", "campaign", "launch", unapproved)
    assert stopped.returncode == 1 and "wealth_welcome@3" in stopped.stderr
