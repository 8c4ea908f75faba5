"""A smoke layer over the real CLI on a warehouse built by `fingrowth run`, against a local SendGrid server.

The use cases themselves are tested through the service (`tests/campaigns/test_campaigns_service.py`);
here: the commands' output and exit codes, the fault run (429, 500, a dropped connection after accept, a
timeout, a process killed mid-send, signed events over HTTP, relaunch, reconcile), and the rules on real data.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from campaigns.definitions.shipped_library import template_path
from pipelines.campaign_wiring import campaign_service
from pipelines.settings import Settings
from pipelines.webhook_server import make_server
from tests.campaigns.conftest import store_rows
from tests.campaigns.sendgrid_server import TEST_KEY, FakeSendGrid
from tests.pipelines.campaign_warehouse import SHANGHAI, recent_send_at, store_of

ROLES = "users:\n  mei: marketer\n  chen: compliance\n  ada: admin\n  ann: analyst\n"
# 10:00 in Shanghai, at most a day ago: outside quiet hours, within the schedule grace.
SEND_AT = recent_send_at().astimezone(SHANGHAI).isoformat()
ALL_SEGMENTS = ["Champions", "Loyal", "At risk", "Potential loyalist", "No purchase", "Cannot lose them",
                "About to sleep", "Need attention", "Hibernating", "Lost", "Promising", "New customers"]
STORE_FILES = ("campaigns.sqlite3", "campaigns.sqlite3-wal", "campaigns.sqlite3-shm")


def _copy_state(source: Path, target: Path) -> None:
    shutil.copy(source / "w.duckdb", target / "w.duckdb")
    shutil.copy(source / "roles.yaml", target / "roles.yaml")
    for name in STORE_FILES:
        if (source / name).exists():
            shutil.copy(source / name, target / name)


@pytest.fixture(scope="module")
def built(tmp_path_factory, sample_run) -> Path:
    """A copy of the session's sample warehouse with the template approved in its campaign store."""
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
    _copy_state(built, tmp_path)
    for name in ("everyone", "second"):
        _campaign_file(tmp_path, name)
    return tmp_path


@pytest.fixture
def server():
    fake = FakeSendGrid().start()
    yield fake
    fake.stop()


def _env(workdir: Path, user: str, server: FakeSendGrid | None = None, batch_size: int = 40,
         timeout: str = "20") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINGROWTH_", "SENDGRID_"))}
    env.update(DAGSTER_HOME=str(workdir / "dagster_home"), NO_PROXY="127.0.0.1,localhost", PYTHONUNBUFFERED="1",
               FINGROWTH_USER=user, FINGROWTH_ROLES=str(workdir / "roles.yaml"),
               FINGROWTH_WAREHOUSE=str(workdir / "w.duckdb"))
    if server is not None:
        env.update(SENDGRID_API_KEY=TEST_KEY, FINGROWTH_SENDGRID_HOST=server.base_url,
                   FINGROWTH_SENDGRID_ASM_GROUP="101", FINGROWTH_SENDGRID_BATCH_SIZE=str(batch_size),
                   FINGROWTH_SENDGRID_TIMEOUT=timeout)
    return env


def _cli(workdir: Path, user: str, *args: str, server: FakeSendGrid | None = None,
         timeout: str = "20", batch_size: int = 40) -> subprocess.CompletedProcess:
    (workdir / "dagster_home").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=workdir,
                          env=_env(workdir, user, server, batch_size=batch_size, timeout=timeout), capture_output=True,
                          text=True, timeout=300, check=False)


def _query(workdir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(workdir / "w.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _store(workdir: Path, sql: str) -> list[tuple]:
    return store_rows(store_of(workdir / "w.duckdb"), sql)


def _email_by_user(workdir: Path) -> dict[str, str]:
    return {u: e.lower() for u, e in _query(workdir, "SELECT user_id, email FROM private.user_contacts "
                                                      "WHERE email IS NOT NULL")}


def _decided(workdir: Path, decision: str, campaign: str, kind: str | None = None, first: bool = False) -> set[str]:
    """User ids with `decision` in the campaign's latest (or first) plan of `kind`."""
    order = "ASC" if first else "DESC"
    kinds = f"AND kind = '{kind}'" if kind else ""
    (plan,), = _store(workdir, f"SELECT plan_id FROM plans WHERE campaign_id = '{campaign}' {kinds} "
                               f"ORDER BY planned_at {order} LIMIT 1")
    return {u for (u,) in _store(workdir, f"SELECT user_id FROM plan_decisions WHERE plan_id = '{plan}' "
                                          f"AND decision = '{decision}'")}


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
def test_replan_gives_the_same_audience_and_split_in_local_times_with_whole_samples(work) -> None:
    first = _cli(work, "mei", "campaign", "plan", "everyone.yaml")
    second = _cli(work, "ann", "campaign", "plan", "everyone.yaml")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    digest = [line for line in first.stdout.splitlines() if line.startswith("audience_sha256")]
    assert digest and digest == [line for line in second.stdout.splitlines() if line.startswith("audience_sha256")]
    plans = _store(work, "SELECT plan_id FROM plans ORDER BY planned_at")
    a, b = (set(_store(work, f"SELECT user_id, decision, reason_codes FROM plan_decisions WHERE plan_id = '{p}'"))
            for (p,) in plans)
    assert a == b and {d for _, d, _ in a} == {"send", "holdout", "excluded"}
    assert "CN-EM-01" in first.stdout and "CN-CONTACT-01" in first.stdout and "nothing sent" in first.stdout
    # Send times in the business zone, and whole sample messages (through the unsubscribe line).
    assert f"for sending at {SEND_AT.replace('T', ' ')} (Asia/Shanghai)" in first.stdout
    assert "理财非存款、产品有风险、投资须谨慎" in first.stdout and "退订：https://example.com/unsubscribe" in first.stdout
    # Analysts may plan but never launch, and the denial is audited.
    denied = _cli(work, "ann", "campaign", "launch", "everyone.yaml")
    assert denied.returncode == 4 and "may not campaign.launch" in denied.stderr
    assert ("ann", "access.denied") in _store(work, "SELECT actor, action FROM audit_log")
    # A live e-mail launch without a key is refused before anyone is decided, naming where to set it.
    keyless = _cli(work, "mei", "campaign", "launch", "everyone.yaml", "--live")
    assert keyless.returncode == 2 and "SENDGRID_API_KEY" in keyless.stderr
    assert _store(work, "SELECT kind, count(*) FROM plans GROUP BY 1") == [("plan", 2)]


@pytest.mark.slow
def test_template_review_through_the_cli(work, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(template_path("wealth_welcome", 1).read_text(encoding="utf-8")
                   .replace("template_id: wealth_welcome", "template_id: wealth_bad")
                   .replace("感谢您关注", "本产品保本保收益，感谢您关注"), encoding="utf-8")
    submitted = _cli(work, "mei", "template", "submit", str(bad))
    assert submitted.returncode == 1 and "CN-AD-01.1 [BLOCK]" in submitted.stdout and "blocked" in submitted.stdout
    own = _cli(work, "chen", "template", "approve", "wealth_bad", "1")
    assert own.returncode == 1 and "CN-AD-01" in own.stderr
    listed = _cli(work, "ann", "template", "list")
    assert "wealth_welcome@1 approved" in listed.stdout and "wealth_bad@1 blocked" in listed.stdout
    shown = _cli(work, "chen", "template", "show", "wealth_welcome", "1")
    assert shown.returncode == 0, shown.stderr
    assert "subject: 【广告】欢迎了解稳健型理财产品" in shown.stdout and "html body (as text):" in shown.stdout
    assert "  | 退订此类邮件 <https://example.com/unsubscribe?c=sample_campaign&u=SAMPLE-0001>" in shown.stdout
    assert "--- language zh ---" in shown.stdout and "lint lint-CN-" in shown.stdout
    # An edit filed under version 1 is refused, naming the version to use; filed as version 2 it can be diffed.
    edited = tmp_path / "edited.yaml"
    edited.write_text(template_path("wealth_welcome", 1).read_text(encoding="utf-8").replace("稳健型", "进取型"),
                      encoding="utf-8")
    renumbered = _cli(work, "mei", "template", "submit", str(edited))
    assert renumbered.returncode == 1 and "as version 2" in renumbered.stderr
    edited.write_text(edited.read_text(encoding="utf-8").replace("version: 1", "version: 2"), encoding="utf-8")
    assert _cli(work, "mei", "template", "submit", str(edited)).returncode == 0
    diff = _cli(work, "ann", "template", "diff", "wealth_welcome", "2")
    assert diff.returncode == 0 and "--- wealth_welcome@1" in diff.stdout and "+  【广告】欢迎了解进取型理财产品" in diff.stdout
    refusals = [a for (a,) in _store(work, "SELECT action FROM audit_log") if a.endswith("_refused")]
    assert refusals == ["template.approve_refused", "template.submit_refused"]
    # A campaign on an unapproved template cannot launch, not even as a dry run.
    (work / "bad_campaign.yaml").write_text((work / "everyone.yaml").read_text().replace('"wealth_welcome"', '"wealth_bad"'))
    refused = _cli(work, "mei", "campaign", "launch", "bad_campaign.yaml")
    assert refused.returncode == 1 and "CN-APPROVAL-01" in refused.stderr


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
                  "X-Twilio-Email-Event-Webhook-Timestamp": str(stamp), "Content-Type": "application/json"}


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _provider_events(accepted) -> list[dict]:
    """What SendGrid posts for an accepted request: processed and delivered per personalization, with our custom_args."""
    events = []
    for index, personalization in enumerate(accepted.body["personalizations"]):
        for kind in ("processed", "delivered"):
            events.append({"event": kind, "email": personalization["to"][0]["email"],
                           "timestamp": int(time.time()), "sg_event_id": f"{accepted.message_id}-{kind}-{index}",
                           "sg_message_id": f"{accepted.message_id}.filter0.{index}",
                           **accepted.body["custom_args"], **personalization["custom_args"]})
    return events


def _holdout_bucket(campaign_id: str, user_id: str) -> float:
    # Recomputed here from the documented definition: SHA-256 of campaign and user, first 8 bytes.
    digest = hashlib.sha256(f"{campaign_id}\x1f{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100.0


@pytest.mark.slow
def test_fault_run_every_eligible_recipient_gets_the_campaign_exactly_once(work, server) -> None:
    """429, 500, a dropped connection after accept, a timeout, then a kill -9 while a request hangs; signed events
    over HTTP (the hung batch's arrive while it is still `sending`), an unsubscribe, a malformed event; relaunch,
    status, reconcile after the wait. Everyone eligible, not held out and reachable gets it once; nobody else."""
    started = time.monotonic()
    tables_before = set(_query(work, "SELECT table_schema, table_name FROM information_schema.tables"))
    # Batches of 20. Batch 0: 429 then accepted; 1: 500; 2: accepted, connection dropped; 3: accepted after the
    # client timed out; 4: accepted; 5: accepted, then the answer hangs and the launcher is killed.
    server.script(("rate_limit", 1), ("pass",), ("status", 500), ("drop_after_accept",), ("delay", 3), ("pass",),
                  ("hang_after_accept",))
    (work / "dagster_home").mkdir(exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "campaign", "launch", "everyone.yaml", "--live"],
                            cwd=work, env=_env(work, "mei", server, batch_size=20, timeout="2"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while server.accepted_count() < 5 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert server.accepted_count() == 5
    states = dict(_store(work, "SELECT batch_id, state FROM outbox"))
    assert [states[f"{i:05d}"] for i in range(6)] == ["accepted", "unknown", "unknown", "unknown", "accepted",
                                                     "sending"]
    frozen = {u: b for u, b in _store(work, "SELECT user_id, batch_id FROM outbox_recipients")}
    sends = _decided(work, "send", "cli_everyone", kind="launch", first=True)
    assert set(frozen) == sends

    # SendGrid's events arrive, signed, over HTTP: for every accepted request, the hung one's while it is `sending`.
    key, public = _signing_key()
    settings = Settings(warehouse=work / "w.duckdb", sendgrid_webhook_public_key=public)
    receiver = make_server("127.0.0.1", 0, campaign_service(settings), "/sendgrid/events")
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    url = receiver.base_url + "/sendgrid/events"
    leaver = sorted(u for u, b in frozen.items() if b == "00007")[0]
    try:
        for accepted in server.accepted:
            assert _post(url, *_signed(key, _provider_events(accepted))) == 200
        # An unsubscribe (from an earlier campaign) by someone in a batch not sent yet, and a malformed event
        # beside it: the unsubscribe is stored, the bad event quarantined, the delivery answered 200.
        unsubscribe = {"event": "group_unsubscribe", "timestamp": int(time.time()), "sg_event_id": "ev-leaver",
                       "member_ref": leaver, "campaign_id": "old_campaign", "asm_group_id": 101}
        assert _post(url, *_signed(key, [{**unsubscribe, "sg_event_id": "bad", "timestamp": 10**15},
                                          unsubscribe])) == 200
        assert _post(url, *_signed(key, [{"event": "delivered", "timestamp": 1}]), ) == 200
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join()
    states = dict(_store(work, "SELECT batch_id, state FROM outbox"))
    assert states["00005"] == "accepted"  # settled by evidence that arrived while it was `sending`
    # The first of its events found the batch `sending` and settled it; the later ones found it accepted.
    assert set(_store(work, "SELECT DISTINCT batch_state FROM webhook_events "
                            "WHERE batch_key LIKE 'cli_everyone-00005-%'")) == {("sending",), ("accepted",)}
    assert _store(work, "SELECT count(*) FROM event_quarantine") == [(2,)]

    # Relaunch: the dropped and timed-out batches are settled from their events, the rest is sent, the leaver
    # skipped; the 500 batch has no evidence and waits for the reconcile wait.
    resumed = _cli(work, "mei", "campaign", "launch", "everyone.yaml", "--live", server=server, timeout="2",
                   batch_size=20)
    assert resumed.returncode == 3, resumed.stdout + resumed.stderr
    assert "unknown outcome for batches 00001" in resumed.stderr and "reconcile" in resumed.stderr
    status = _cli(work, "ann", "campaign", "status", "cli_everyone")
    assert status.returncode == 3 and "00001" in status.stdout and "no provider event" in status.stdout
    assert "00002" in status.stdout and "event(s) (delivered…processed)" in status.stdout

    # Reconcile after the wait (the clock moved on 31 minutes): the 500 batch is resent once.
    later = campaign_service(Settings.from_env(
        {"FINGROWTH_USER": "mei", "FINGROWTH_ROLES": str(work / "roles.yaml"), "SENDGRID_API_KEY": TEST_KEY,
         "FINGROWTH_SENDGRID_HOST": server.base_url, "FINGROWTH_SENDGRID_ASM_GROUP": "101",
         "FINGROWTH_SENDGRID_BATCH_SIZE": "20", "FINGROWTH_WAREHOUSE": str(work / "w.duckdb")}),
        clock=lambda: datetime.now(UTC) + timedelta(minutes=31))
    reconciled = later.reconcile("mei", "cli_everyone")
    assert reconciled.resent_batches == ("cli_everyone/00001",) and reconciled.unknown_batches == ()
    final = _cli(work, "mei", "campaign", "reconcile", "cli_everyone")
    assert final.returncode == 0, final.stdout + final.stderr
    again = _cli(work, "mei", "campaign", "launch", "everyone.yaml", "--live", server=server)
    assert again.returncode == 0, again.stderr
    seconds = time.monotonic() - started

    emails = _email_by_user(work)
    recipients = server.recipients()
    assert len(recipients) == len(set(recipients)), "somebody received the campaign twice"
    expected = {emails[u] for u in sends - {leaver}}
    assert set(recipients) == expected
    # An independent check of who may be contacted, from the warehouse itself.
    holdout = {u for u in emails if _holdout_bucket("cli_everyone", u) < 10}
    consented = {u for (u,) in _query(work, "SELECT user_id FROM staged.consents WHERE channel = 'email' AND "
                                            "purpose = 'marketing' AND status = 'granted' AND evidence_ref IS NOT NULL")}
    cross_border = {u for (u,) in _query(work, "SELECT user_id FROM staged.consents WHERE channel = 'email' AND "
                                               "purpose = 'cross_border' AND status = 'granted'")}
    # PIPL Art. 39: residents of mainland China (or of unknown residence) need the separate cross-border consent.
    residents = {u for (u,) in _query(work, "SELECT user_id FROM staged.users WHERE country IS NULL "
                                            "OR upper(country) = 'CN'")}
    cutoff = date.fromisoformat(SEND_AT[:10]).replace(year=int(SEND_AT[:4]) - 18)
    minors = {u for (u,) in _query(work, f"SELECT user_id FROM private.user_contacts WHERE birth_date IS NULL "
                                         f"OR birth_date > DATE '{cutoff.isoformat()}'")}
    reached = {u for u, e in emails.items() if e in set(recipients)}
    assert not reached & holdout and not reached & minors and reached <= consented
    assert reached & residents <= cross_border
    assert leaver not in reached
    final_states = dict(_store(work, "SELECT state, count(*) FROM outbox GROUP BY 1"))
    resends = _store(work, "SELECT sum(resends) FROM outbox")[0][0]
    assert set(final_states) <= {"accepted", "empty"} and resends == 1
    outputs = resumed.stdout + resumed.stderr + status.stdout + final.stdout + final.stderr
    assert TEST_KEY not in outputs and public not in outputs and not any(e in outputs for e in recipients)
    # A launch leaves nothing in the warehouse: campaign state lives in the campaign store.
    assert set(_query(work, "SELECT table_schema, table_name FROM information_schema.tables")) == tables_before
    print(f"\nfault run: {len(recipients)} recipients of {len(sends)} decided send (1 unsubscribed meanwhile), "
          f"batches {final_states}, resends {resends}, {server.accepted_count()} accepted requests, {seconds:.1f}s")


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
    assert _store(work, "SELECT user_id, reason FROM suppressions") == [(member, "unsubscribe")]
    assert email not in " ".join(str(r) for r in _store(work, "SELECT * FROM webhook_events"))
    before = len(server.recipients())
    second = _cli(work, "mei", "campaign", "launch", "second.yaml", "--live", server=server)
    assert second.returncode == 0, second.stderr
    assert email not in server.recipients()[before:] and len(server.recipients()) > before
    reasons = _store(work, "SELECT reason_codes FROM plan_decisions WHERE campaign_id = 'cli_second' "
                           f"AND user_id = '{member}'")
    assert reasons and all("CN-EM-04:suppressed_unsubscribe" in r[0] for r in reasons)


@pytest.mark.slow
def test_an_empty_live_send_says_zero_to_send_with_reasons_and_exits_0(work, server) -> None:
    nobody = _campaign_file(work, "nobody", segment={"rfm_segment": ["No such segment"]})
    result = _cli(work, "mei", "campaign", "launch", nobody, "--live", server=server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 to send now: the audience is empty" in result.stdout and "Traceback" not in result.stderr
    assert server.accepted == [] and _store(work, "SELECT count(*) FROM outbox") == [(0,)]


@pytest.mark.slow
def test_frequency_cap_counts_the_previous_campaign_and_sms_exports_exactly_once(work, server) -> None:
    first = _cli(work, "mei", "campaign", "launch", "everyone.yaml", "--live", server=server)
    assert first.returncode == 0, first.stderr
    emailed = {m for (m,) in _store(work, "SELECT r.user_id FROM outbox_recipients r JOIN outbox o "
                                          "ON o.campaign_id = r.campaign_id AND o.batch_id = r.batch_id "
                                          "WHERE o.state = 'accepted' AND r.skipped_reason IS NULL")}
    assert emailed
    # A campaign allowing one message a week excludes everyone the first campaign reached, citing CN-FREQ-01.
    capped = _cli(work, "mei", "campaign", "plan", _campaign_file(work, "capped", frequency_cap={
        "max_messages": 1, "days": 7}))
    assert capped.returncode == 0, capped.stderr
    decided = dict(_store(work, "SELECT user_id, reason_codes FROM plan_decisions WHERE campaign_id = 'cli_capped'"))
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
    ledger = _store(work, "SELECT count(*) FROM outbox_recipients r JOIN outbox o ON o.campaign_id = r.campaign_id "
                          "AND o.batch_id = r.batch_id WHERE r.campaign_id = 'cli_sms' AND o.state = 'exported' "
                          "AND r.skipped_reason IS NULL")[0][0]
    assert ledger == len(rows)
    # CN residents without cross-border consent: excluded for SendGrid (US), messaged through the domestic SMS vendor.
    no_cross_border = {u for (u,) in _store(work, "SELECT user_id FROM plan_decisions WHERE "
                                                  "campaign_id = 'cli_everyone' AND reason_codes LIKE '%CN-PI-02%'")}
    assert no_cross_border & set(rows)
    assert not any("CN-PI-02" in codes for (codes,) in _store(
        work, "SELECT reason_codes FROM plan_decisions WHERE campaign_id = 'cli_sms'"))
    phones = {p for (p,) in _query(work, "SELECT phone FROM private.user_contacts WHERE phone IS NOT NULL")}
    assert not any(phone in exported[0].stdout + exported[0].stderr for phone in phones)


@pytest.mark.slow
def test_schedule_and_ab_variants_through_the_cli(work) -> None:
    future = _campaign_file(work, "future", send_at="2099-01-01T10:00:00+08:00")
    refused = _cli(work, "mei", "campaign", "launch", future)
    assert refused.returncode == 1 and "scheduled for 2099-01-01T10:00:00+08:00" in refused.stderr
    assert "--now" in refused.stderr
    planned = _cli(work, "mei", "campaign", "plan", future)
    assert planned.returncode == 0 and "for sending at 2099-01-01 10:00:00+08:00 (Asia/Shanghai)" in planned.stdout
    # A send_at months in the past is refused until re-planned.
    stale = _campaign_file(work, "stale", send_at="2026-07-01T10:00:00+08:00")
    old = _cli(work, "mei", "campaign", "launch", stale)
    assert old.returncode == 1 and "more than 24 hour(s) ago" in old.stderr and "FINGROWTH_SEND_AT_GRACE_HOURS" in old.stderr

    _approve(work, "wealth_welcome", 2)
    ab = _campaign_file(work, "ab", template=None, variants=[
        {"name": "A", "template": {"id": "wealth_welcome", "version": 1}, "weight": 50},
        {"name": "B", "template": {"id": "wealth_welcome", "version": 2}, "weight": 50}])
    plan = _cli(work, "mei", "campaign", "plan", ab)
    assert plan.returncode == 0, plan.stderr
    counts = dict(_store(work, "SELECT variant, count(*) FROM plan_decisions WHERE campaign_id = 'cli_ab' "
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
