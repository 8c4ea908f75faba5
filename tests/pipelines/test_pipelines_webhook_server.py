"""The Event Webhook receiver over real HTTP: signed events recorded once, forgeries refused, unsubscribes honoured."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from campaigns import load_campaign, load_template, template_path
from campaigns.delivery.plan_records import plan_campaign
from campaigns.governance.access import StaticRoles
from campaigns.service import CampaignService
from pipelines.campaign_wiring import WarehouseSessions
from pipelines.webhook_server import make_server
from tests.pipelines.campaign_warehouse import (
    DECIDED_AT,
    build_warehouse,
    email_of,
    write_campaign,
)
from warehouse import connect

PATH = "/sendgrid/events"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def signing_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    return key, public


def signed(key: ec.EllipticCurvePrivateKey, events: list[dict], stamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The raw body and SendGrid's signature headers (ECDSA P-256 over timestamp + body)."""
    body = json.dumps(events).encode()
    stamp = stamp or int(time.time())
    signature = key.sign(str(stamp).encode() + body, ec.ECDSA(hashes.SHA256()))
    return body, {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                  "X-Twilio-Email-Event-Webhook-Timestamp": str(stamp), "Content-Type": "application/json"}


def unsubscribe(user_id: str, event_id: str, with_member_ref: bool = True) -> dict:
    event = {"email": email_of(user_id), "timestamp": int(time.time()), "event": "unsubscribe",
             "sg_event_id": event_id, "sg_message_id": f"msg-{user_id}.filter0.0", "campaign_id": "first"}
    return {**event, "member_ref": user_id} if with_member_ref else event


def post(url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> int:
    request = urllib.request.Request(url, data=body if method == "POST" else None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "w.duckdb", approve=False)


@contextmanager
def serving(warehouse: Path, public_key: str, max_body_bytes: int = 1_000_000) -> Iterator[str]:
    service = CampaignService(WarehouseSessions(warehouse, "Asia/Shanghai"), StaticRoles({}),
                              webhook_public_key=public_key)
    server = make_server("127.0.0.1", 0, service, PATH, max_body_bytes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.base_url + PATH
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with connect(warehouse, read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_good_signature_records_once_and_forgeries_record_nothing(warehouse: Path) -> None:
    key, public = signing_key()
    other_key, _ = signing_key()
    body, headers = signed(key, [unsubscribe("u03", "ev-1")])
    with serving(warehouse, public) as url:
        forged_body, forged = signed(other_key, [unsubscribe("u03", "ev-1")])
        assert post(url, forged_body, forged) == 401
        stale_body, stale = signed(key, [unsubscribe("u03", "ev-1")], stamp=int(time.time()) - 3600)
        assert post(url, stale_body, stale) == 401
        assert post(url, body.replace(b"unsubscribe", b"delivered"), headers) == 401
        assert post(url, body, {**headers, "X-Twilio-Email-Event-Webhook-Signature": "%%%"}) == 401
        unsigned = {k: v for k, v in headers.items() if not k.startswith("X-Twilio")}
        assert post(url, body, unsigned) == 401
        # Rejected before anything was touched: not even the tables exist yet.
        assert rows(warehouse, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'campaigns'") == [(0,)]

        assert post(url, body, headers) == 200
        # SendGrid retries: the same delivery again, and the same event under a new sg_event_id.
        assert post(url, body, headers) == 200
        again_body, again = signed(key, [{**unsubscribe("u03", "ev-2"), "timestamp": json.loads(body)[0]["timestamp"]}])
        assert post(url, again_body, again) == 200

    assert rows(warehouse, "SELECT user_id, reason FROM campaigns.suppressions") == [("u03", "unsubscribe")]
    assert rows(warehouse, "SELECT count(*) FROM campaigns.webhook_events") == [(1,)]
    stored = " ".join(str(r) for r in rows(warehouse, "SELECT * FROM campaigns.webhook_events"))
    assert email_of("u03") not in stored


def test_an_unsubscribe_over_http_excludes_the_person_from_the_next_plan(warehouse: Path, tmp_path: Path) -> None:
    key, public = signing_key()
    campaign = load_campaign(write_campaign(tmp_path, "second"))
    template = load_template(template_path("wealth_welcome", 1))
    with connect(warehouse) as conn:
        before = plan_campaign(conn, campaign, template, "mei", DECIDED_AT, "https://example.com/u")
    assert before.result.decisions.filter(user_id="u07")["decision"].to_list() == ["send"]

    # No member_ref: the person is found by the address, which is not stored.
    body, headers = signed(key, [unsubscribe("u07", "ev-7", with_member_ref=False)])
    with serving(warehouse, public) as url:
        assert post(url, body, headers) == 200

    with connect(warehouse) as conn:
        after = plan_campaign(conn, campaign, template, "mei", DECIDED_AT, "https://example.com/u")
    decided = after.result.decisions.filter(user_id="u07")
    assert decided["decision"].to_list() == ["excluded"]
    assert any(code.startswith("CN-EM-04:") for code in decided["reason_codes"].item())
    assert after.counts["send"] == before.counts["send"] - 1
    funnel = dict(after.result.funnel.select("step", "excluded").iter_rows())
    assert funnel["CN-EM-04"] == 1


def test_concurrent_deliveries_are_all_recorded(warehouse: Path) -> None:
    key, public = signing_key()
    deliveries = [signed(key, [unsubscribe(f"u{i:02d}", f"ev-c{i}")]) for i in range(10, 18)]
    with serving(warehouse, public) as url:
        statuses: list[int] = []
        threads = [threading.Thread(target=lambda b=b, h=h: statuses.append(post(url, b, h))) for b, h in deliveries]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [200] * len(deliveries)
    assert rows(warehouse, "SELECT count(DISTINCT user_id) FROM campaigns.suppressions") == [(len(deliveries),)]


def test_only_post_to_the_path_within_the_size_limit_is_accepted(warehouse: Path, caplog) -> None:
    key, public = signing_key()
    body, headers = signed(key, [unsubscribe("u04", "ev-4")])
    caplog.set_level(logging.DEBUG, logger="pipelines.webhook_server")
    with serving(warehouse, public, max_body_bytes=len(body)) as url:
        assert post(url, b"", {}, method="GET") == 405
        assert post(url, b"", {}, method="DELETE") == 405
        assert post(url.replace(PATH, "/other"), body, headers) == 404
        big_body, big = signed(key, [unsubscribe("u05", "ev-5"), unsubscribe("u06", "ev-6")])
        assert post(url, big_body, big) == 413
        assert post(url, b"[]", {**headers}) == 401  # a valid signature covers exactly one body
        assert post(url, body, headers) == 200
    assert rows(warehouse, "SELECT user_id FROM campaigns.suppressions") == [("u04",)]
    # Neither addresses, bodies nor client IPs reach the log.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "POST -> 200" in logged
    assert "example.test" not in logged and "127.0.0.1" not in logged and "unsubscribe" not in logged


def test_a_server_needs_a_service_that_verifies_signatures(warehouse: Path) -> None:
    unverified = CampaignService(WarehouseSessions(warehouse, "Asia/Shanghai"), StaticRoles({}))
    with pytest.raises(ValueError, match="verification public key"):
        make_server("127.0.0.1", 0, unverified, PATH)


def test_the_cli_serves_until_terminated(warehouse: Path, tmp_path: Path) -> None:
    key, public = signing_key()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINGROWTH_")}
    env.update(NO_PROXY="127.0.0.1,localhost", PYTHONUNBUFFERED="1", FINGROWTH_WAREHOUSE=str(warehouse))
    missing = subprocess.run([sys.executable, "-m", "pipelines.cli", "webhook", "serve", "--port", "0"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=120, check=False)
    assert missing.returncode == 2 and "FINGROWTH_SENDGRID_WEBHOOK_PUBLIC_KEY" in missing.stderr
    env["FINGROWTH_SENDGRID_WEBHOOK_PUBLIC_KEY"] = public
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "webhook", "serve", "--port", "0"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.split()[2]
        body, headers = signed(key, [unsubscribe("u08", "ev-8")])
        assert post(url, body, headers) == 200
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert public not in stderr and "example.test" not in stderr
    assert rows(warehouse, "SELECT user_id FROM campaigns.suppressions") == [("u08",)]


def test_while_another_process_holds_the_warehouse_the_answer_is_503_and_a_retry_succeeds(warehouse: Path) -> None:
    key, public = signing_key()
    body, headers = signed(key, [unsubscribe("u09", "ev-9")])
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, duckdb; conn = duckdb.connect(sys.argv[1]); print('holding', flush=True); sys.stdin.read()"),
        str(warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with serving(warehouse, public) as url:
            assert post(url, body, headers) == 503
            holder.communicate(input="", timeout=60)  # the other writer lets go
            assert post(url, body, headers) == 200
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.communicate()
    assert rows(warehouse, "SELECT user_id FROM campaigns.suppressions") == [("u09",)]
