"""Delivery against the local SendGrid server: limits, retries, and the outbox ledger."""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest

from campaigns.delivery.sendgrid_email import SenderConfig, deliver
from tests.campaigns.sendgrid_server import TEST_KEY, FakeSendGrid


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    fake = FakeSendGrid().start()
    yield fake
    fake.stop()


@pytest.fixture
def conn():
    with duckdb.connect(":memory:") as connection:
        connection.execute("CREATE SCHEMA private")
        connection.execute("CREATE TABLE private.user_contacts AS SELECT 'u' || lpad(i::VARCHAR, 5, '0') AS user_id, "
                           "'u' || lpad(i::VARCHAR, 5, '0') || '@mail.example.cn' AS email FROM range(3000) t(i)")
        yield connection


def _people(n: int) -> pl.DataFrame:
    return pl.DataFrame({"user_id": [f"u{i:05d}" for i in range(n)], "persona_name": ["稳健理财族"] * n})


def _send(conn, server, wealth_template, people, waits=None, batch_size=1000, **kwargs):
    config = SenderConfig("marketing@example.com", "示例数字金融", 101, host=server.base_url, batch_size=batch_size,
                          timeout_seconds=1)
    return deliver(conn, campaign_id="c1", template=wealth_template, eligible=people, config=config, actor="mei",
                   api_key=TEST_KEY, live=True, sleep=(waits.append if waits is not None else lambda s: None), **kwargs)


def _states(conn) -> dict[str, str]:
    return dict(conn.execute("SELECT batch_id, state FROM campaigns.outbox ORDER BY batch_id").fetchall())


def test_requests_respect_the_contract_and_everyone_gets_one_message(conn, server, wealth_template) -> None:
    report = _send(conn, server, wealth_template, _people(2500))
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
    assert "%fg_unsubscribe_url_html%" in body["content"][1]["value"]
    assert "Authorization" not in server.accepted[0].headers
    # A second launch finds everything accepted and sends nothing.
    again = _send(conn, server, wealth_template, _people(2500))
    assert again.requests == 0 and len(server.recipients()) == 2500
    ledger = " ".join(str(r) for r in conn.execute("SELECT * FROM campaigns.outbox").fetchall())
    ledger += " ".join(str(r) for r in conn.execute("SELECT * FROM campaigns.audit_log").fetchall())
    assert "@mail.example.cn" not in ledger and TEST_KEY not in ledger


def test_429_waits_for_the_reset_then_sends(conn, server, wealth_template) -> None:
    server.script(("rate_limit", 30), ("rate_limit", 30))
    waits: list[float] = []
    report = _send(conn, server, wealth_template, _people(10), waits=waits)
    assert report.recipients_accepted == 10 and len(server.accepted) == 1
    assert len(waits) == 2 and all(28 <= w <= 31 for w in waits)


def test_401_halts_without_sending_and_a_later_launch_resumes(conn, server, wealth_template) -> None:
    server.script(("status", 401))
    report = _send(conn, server, wealth_template, _people(30), batch_size=10)
    assert report.halted and "401" in report.halted and server.accepted == []
    assert set(_states(conn).values()) == {"planned"}
    resumed = _send(conn, server, wealth_template, _people(30), batch_size=10)
    assert resumed.recipients_accepted == 30 and sorted(server.recipients()) == sorted(set(server.recipients()))


def test_400_is_not_retried_and_413_splits(conn, server, wealth_template) -> None:
    server.script(("status", 400), ("status", 413))
    report = _send(conn, server, wealth_template, _people(30), batch_size=10)
    states = _states(conn)
    assert states["00000"] == "failed" and states["00001"] == "split"
    assert states["00001.0"] == states["00001.1"] == states["00002"] == "accepted"
    assert report.requests == 5 and report.recipients_accepted == 20
    assert len(server.recipients()) == len(set(server.recipients())) == 20


@pytest.mark.parametrize("fault", [("status", 500), ("status", 503), ("drop_after_accept",), ("delay", 1.5)])
def test_ambiguous_outcomes_are_never_resent_blindly(conn, server, wealth_template, fault) -> None:
    server.script(fault)
    report = _send(conn, server, wealth_template, _people(30), batch_size=10)
    assert report.unknown_batches == ["00000"]
    accepted_before = server.recipients()
    again = _send(conn, server, wealth_template, _people(30), batch_size=10)
    assert again.requests == 0 and again.unknown_batches == ["00000"]
    assert server.recipients() == accepted_before
    # When the server did accept (drop, slow answer), nobody got two messages.
    assert len(accepted_before) == len(set(accepted_before))
    # Only an explicit operator decision requeues it.
    requeued = _send(conn, server, wealth_template, _people(30), batch_size=10, resend_unknown=True)
    assert requeued.unknown_batches == [] and requeued.requests == 1


def test_people_no_longer_eligible_at_resume_are_skipped(conn, server, wealth_template) -> None:
    server.script(("status", 401))
    _send(conn, server, wealth_template, _people(20), batch_size=10)
    still = _people(20).filter(pl.col("user_id") != "u00003")
    report = _send(conn, server, wealth_template, still, batch_size=10)
    assert "u00003@mail.example.cn" not in server.recipients() and len(server.recipients()) == 19
    assert report.skipped == {"no_longer_eligible": 1}


def test_dry_run_sends_nothing_and_needs_no_key(conn, server, wealth_template) -> None:
    config = SenderConfig("marketing@example.com", "x", 101, host=server.base_url, batch_size=10)
    report = deliver(conn, campaign_id="c1", template=wealth_template, eligible=_people(25), config=config,
                     actor="mei", api_key=None, live=False)
    assert report.batches == {"planned (dry run)": 3} and server.accepted == []
    assert conn.execute("SELECT count(*) FROM campaigns.outbox").fetchone()[0] == 0
