"""Delivery against the local SendGrid server: limits, retries and the outbox ledger, on SQLite and Postgres."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from campaigns.delivery.batch_reconciliation import batch_table, reconcile, requeue
from campaigns.delivery.outbox_ledger import claim, transition
from campaigns.delivery.provider_events import record_events
from campaigns.delivery.sendgrid_email import SenderConfig, deliver
from tests.campaigns.conftest import ContactWarehouse, store_execute, store_rows
from tests.campaigns.sendgrid_server import TEST_KEY, FakeSendGrid


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    fake = FakeSendGrid().start()
    yield fake
    fake.stop()


@pytest.fixture
def contacts(tmp_path) -> ContactWarehouse:
    return ContactWarehouse(tmp_path / "contacts.duckdb", (
        "SELECT 'u' || lpad(i::VARCHAR, 5, '0') AS user_id, 'u' || lpad(i::VARCHAR, 5, '0') || '@mail.example.cn' "
        "AS email FROM range(3000) t(i)"))


def _people(n: int) -> pl.DataFrame:
    return pl.DataFrame({"user_id": [f"u{i:05d}" for i in range(n)]})


def _send(op_store, contacts, server, wealth_template, people, waits=None, batch_size=1000, **kwargs):
    config = SenderConfig("marketing@example.com", "示例数字金融", 101, host=server.base_url, batch_size=batch_size,
                          timeout_seconds=1)
    return deliver(op_store, contacts.book, campaign_id="c1", template=wealth_template, eligible=people, config=config,
                   actor="mei", api_key=TEST_KEY, live=True,
                   sleep=(waits.append if waits is not None else lambda s: None), **kwargs)


def _states(op_store) -> dict[str, str]:
    return dict(store_rows(op_store, "SELECT batch_id, state FROM outbox ORDER BY batch_id"))


def _event(accepted, kind: str = "delivered", index: int = 0) -> dict:
    return {"event": kind, "timestamp": int(datetime.now(UTC).timestamp()), "sg_event_id": f"ev-{kind}-{index}",
            "member_ref": accepted.body["personalizations"][index]["custom_args"]["member_ref"],
            "sg_message_id": f"{accepted.message_id}.filter0.{index}", **accepted.body["custom_args"]}


def test_requests_respect_the_contract_and_everyone_gets_one_message(op_store, contacts, server,
                                                                      wealth_template) -> None:
    report = _send(op_store, contacts, server, wealth_template, _people(2500))
    assert report.recipients_accepted == 2500 and report.halted is None
    assert [len(a.body["personalizations"]) for a in server.accepted] == [1000, 1000, 500]
    recipients = server.recipients()
    assert len(recipients) == len(set(recipients)) == 2500
    body = server.accepted[0].body
    assert all(len(p["to"]) == 1 for p in body["personalizations"])
    assert all(isinstance(v, str) for p in body["personalizations"] for v in p["custom_args"].values())
    assert all(isinstance(v, str) for v in body["custom_args"].values())
    assert "@" not in json.dumps(body["custom_args"]) + json.dumps(body["categories"])
    assert body["asm"] == {"group_id": 101}
    first = body["personalizations"][0]
    assert first["subject"].startswith("【广告】")
    assert first["substitutions"]["%fg_user_ref%"] == first["custom_args"]["member_ref"]
    assert set(first["substitutions"]) == {f"%fg_{n}{s}%" for n in ("user_ref", "campaign_id", "unsubscribe_url")
                                           for s in ("", "_html")}
    assert "%fg_unsubscribe_url_html%" in body["content"][1]["value"]
    assert "Authorization" not in server.accepted[0].headers
    # A second launch finds everything accepted and sends nothing.
    again = _send(op_store, contacts, server, wealth_template, _people(2500))
    assert again.requests == 0 and len(server.recipients()) == 2500
    ledger = " ".join(str(r) for table in ("outbox", "outbox_recipients", "audit_log")
                      for r in store_rows(op_store, f"SELECT * FROM {table}"))
    assert "@mail.example.cn" not in ledger and TEST_KEY not in ledger


def test_429_waits_for_the_reset_then_sends(op_store, contacts, server, wealth_template) -> None:
    server.script(("rate_limit", 30), ("rate_limit", 30))
    waits: list[float] = []
    report = _send(op_store, contacts, server, wealth_template, _people(10), waits=waits)
    assert report.recipients_accepted == 10 and len(server.accepted) == 1
    assert len(waits) == 2 and all(28 <= w <= 31 for w in waits)


def test_401_halts_without_sending_and_a_later_launch_resumes(op_store, contacts, server, wealth_template) -> None:
    server.script(("status", 401))
    report = _send(op_store, contacts, server, wealth_template, _people(30), batch_size=10)
    assert report.halted and "401" in report.halted and server.accepted == []
    assert set(_states(op_store).values()) == {"planned"}
    resumed = _send(op_store, contacts, server, wealth_template, _people(30), batch_size=10)
    assert resumed.recipients_accepted == 30 and sorted(server.recipients()) == sorted(set(server.recipients()))


def test_400_fails_and_413_splits_and_an_admin_retries_a_failed_batch(op_store, contacts, server,
                                                                     wealth_template) -> None:
    server.script(("status", 400), ("status", 413))
    report = _send(op_store, contacts, server, wealth_template, _people(30), batch_size=10)
    states = _states(op_store)
    assert states["00000"] == "failed" and states["00001"] == "split"
    assert states["00001.0"] == states["00001.1"] == states["00002"] == "accepted"
    assert report.requests == 5 and report.recipients_accepted == 20
    # A launch never retries a rejected batch by itself ...
    assert _send(op_store, contacts, server, wealth_template, _people(30), batch_size=10).requests == 0
    # ... an admin requeues it after the fix, and the next launch sends it, once.
    assert requeue(op_store, "c1", ["00000"], "failed", "ada", "delivery.retry_failed", "fixed") == ["00000"]
    retried = _send(op_store, contacts, server, wealth_template, _people(30), batch_size=10)
    assert retried.requests == 1 and retried.recipients_accepted == 30
    assert len(server.recipients()) == len(set(server.recipients())) == 30


@pytest.mark.parametrize("fault", [("status", 500), ("status", 503), ("drop_after_accept",), ("delay", 1.5)])
def test_ambiguous_outcomes_are_unknown_never_failed_and_never_resent_blindly(op_store, contacts, server,
                                                                             wealth_template, fault) -> None:
    server.script(fault)
    report = _send(op_store, contacts, server, wealth_template, _people(30), batch_size=10)
    assert report.unknown_batches == ["00000"] and "failed" not in report.batches
    accepted_before = server.recipients()
    again = _send(op_store, contacts, server, wealth_template, _people(30), batch_size=10)
    assert again.requests == 0 and again.unknown_batches == ["00000"]
    assert server.recipients() == accepted_before
    # When the server did accept (drop, slow answer), nobody got two messages.
    assert len(accepted_before) == len(set(accepted_before))


def test_an_unknown_batch_without_evidence_is_resent_once_after_the_wait(op_store, contacts, server,
                                                                        wealth_template) -> None:
    server.script(("status", 500))
    _send(op_store, contacts, server, wealth_template, _people(30), batch_size=10)
    assert _states(op_store)["00000"] == "unknown" and len(server.recipients()) == 20
    # Within the wait nothing happens; after it the batch is requeued for exactly one resend, with the evidence
    # (none) in the audit trail.
    early = reconcile(op_store, "mei", timedelta(minutes=30))
    assert [d.decision for d in early.decisions] == ["waiting"]
    later = reconcile(op_store, "mei", timedelta(minutes=30), now=datetime.now(UTC) + timedelta(minutes=31))
    assert [(d.batch_id, d.decision) for d in later.decisions] == [("00000", "resend")]
    assert "no provider event" in later.decisions[0].evidence
    resent = _send(op_store, contacts, server, wealth_template, _people(30), batch_size=10)
    assert resent.requests == 1 and resent.recipients_accepted == 30
    assert len(server.recipients()) == len(set(server.recipients())) == 30
    audit = store_rows(op_store, "SELECT details_json FROM audit_log WHERE action = 'delivery.resend_unknown'")
    assert len(audit) == 1 and "no provider event with the batch key" in audit[0][0]
    # At most once: the same batch unknown again is left for an operator.
    store_execute(op_store, "UPDATE outbox SET state = 'unknown' WHERE batch_id = '00000'")
    last = reconcile(op_store, "mei", timedelta(minutes=30), now=datetime.now(UTC) + timedelta(hours=2))
    assert [(d.batch_id, d.decision) for d in last.decisions] == [("00000", "needs_operator")]


def test_an_event_arriving_while_the_batch_is_sending_settles_it(op_store, contacts, server, wealth_template) -> None:
    """The provider's evidence wins whatever the ledger said when it arrived; a late ambiguous answer cannot undo it."""
    server.script(("hang_after_accept",))
    errors: list[BaseException] = []
    launcher = threading.Thread(target=lambda: _send_catching(errors, op_store, contacts, server, wealth_template))
    launcher.start()
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while not server.accepted and datetime.now(UTC) < deadline:
        threading.Event().wait(0.02)
    assert _states(op_store)["00000"] == "sending"
    result = record_events(op_store, [_event(server.accepted[0])])
    assert result.reconciled_batches == ("00000",)
    launcher.join(timeout=60)  # the client times out on the hung answer
    assert not errors and _states(op_store) == {"00000": "accepted", "00001": "accepted", "00002": "accepted"}
    assert store_rows(op_store, "SELECT batch_state FROM webhook_events") == [("sending",)]
    assert not transition(op_store, "c1", "00000", "unknown")
    table = batch_table(op_store, "c1")
    assert table.filter(pl.col("batch_id") == "00000").get_column("events").item() == 1


def _send_catching(errors, op_store, contacts, server, template) -> None:
    try:
        _send(op_store, contacts, server, template, _people(30), batch_size=10)
    except BaseException as error:  # noqa: BLE001 - reported to the test thread
        errors.append(error)


def test_two_launchers_can_never_both_claim_a_batch(op_store, contacts, server, wealth_template) -> None:
    server.script(("status", 401))
    _send(op_store, contacts, server, wealth_template, _people(10), batch_size=10)
    outcomes: list[bool] = []
    threads = [threading.Thread(target=lambda: outcomes.append(claim(op_store, "c1", "00000"))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 5 + [True]
    # One attempt by the 401 launch, one by the single winner.
    assert store_rows(op_store, "SELECT state, attempts FROM outbox") == [("sending", 2)]


def test_people_no_longer_eligible_at_resume_are_skipped(op_store, contacts, server, wealth_template) -> None:
    server.script(("status", 401))
    _send(op_store, contacts, server, wealth_template, _people(20), batch_size=10)
    still = _people(20).filter(pl.col("user_id") != "u00003")
    report = _send(op_store, contacts, server, wealth_template, still, batch_size=10)
    assert "u00003@mail.example.cn" not in server.recipients() and len(server.recipients()) == 19
    assert report.skipped == {"no_longer_eligible": 1}


def test_an_empty_audience_freezes_nothing(op_store, contacts, server, wealth_template) -> None:
    report = _send(op_store, contacts, server, wealth_template, _people(0))
    assert report.batches == {} and report.requests == 0 and server.accepted == []
    assert store_rows(op_store, "SELECT count(*) FROM outbox") == [(0,)]


def test_dry_run_sends_nothing_and_needs_no_key(op_store, contacts, server, wealth_template) -> None:
    config = SenderConfig("marketing@example.com", "x", 101, host=server.base_url, batch_size=10)
    report = deliver(op_store, contacts.book, campaign_id="c1", template=wealth_template, eligible=_people(25),
                     config=config, actor="mei", api_key=None, live=False)
    assert report.batches == {"planned (dry run)": 3} and server.accepted == []
    assert store_rows(op_store, "SELECT count(*) FROM outbox") == [(0,)]
