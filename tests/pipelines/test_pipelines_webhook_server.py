"""The Event Webhook receiver over real HTTP: signed events recorded once into the campaign store, forgeries
refused before any store is touched, slow clients cut off, a malformed event quarantined, unsubscribes honoured."""

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

import socket

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from campaigns import load_campaign, load_template, template_path
from campaigns.delivery.plan_records import plan_campaign
from campaigns.governance.access import StaticRoles
from campaigns.service import CampaignService
from campaigns.store.op_database import OpStore
from pipelines.campaign_wiring import WarehouseSessions
from pipelines.webhook_server import make_server
from tests.campaigns.conftest import store_rows
from tests.pipelines.campaign_warehouse import (
    DECIDED_AT,
    build_warehouse,
    email_of,
    store_of,
    store_url,
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
def serving(warehouse: Path, public_key: str, max_body_bytes: int = 1_000_000, read_timeout: float = 10.0,
            store: OpStore | None = None) -> Iterator[str]:
    service = CampaignService(WarehouseSessions(warehouse, "Asia/Shanghai"), store or store_of(warehouse),
                              StaticRoles({}), webhook_public_key=public_key)
    server = make_server("127.0.0.1", 0, service, PATH, max_body_bytes, read_timeout=read_timeout)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.base_url + PATH
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def rows(warehouse: Path, sql: str) -> list[tuple]:
    """Rows of the warehouse's campaign store (tables by plain name)."""
    return store_rows(store_of(warehouse), sql)


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
        # Rejected before anything was touched: the campaign store does not even exist yet.
        assert not Path(store_url(warehouse).removeprefix("sqlite:///")).exists()

        assert post(url, body, headers) == 200
        # SendGrid retries: the same delivery again, and the same event under a new sg_event_id.
        assert post(url, body, headers) == 200
        again_body, again = signed(key, [{**unsubscribe("u03", "ev-2"), "timestamp": json.loads(body)[0]["timestamp"]}])
        assert post(url, again_body, again) == 200

    assert rows(warehouse, "SELECT user_id, reason FROM suppressions") == [("u03", "unsubscribe")]
    assert rows(warehouse, "SELECT count(*) FROM webhook_events") == [(1,)]
    stored = " ".join(str(r) for r in rows(warehouse, "SELECT * FROM webhook_events"))
    assert email_of("u03") not in stored


def test_an_unsubscribe_over_http_excludes_the_person_from_the_next_plan(warehouse: Path, tmp_path: Path) -> None:
    key, public = signing_key()
    campaign = load_campaign(write_campaign(tmp_path, "second"))
    template = load_template(template_path("wealth_welcome", 1))
    with connect(warehouse, read_only=True) as conn:
        before = plan_campaign(conn, store_of(warehouse), campaign, template, "mei", DECIDED_AT, "https://example.com/u")
    assert before.result.decisions.filter(user_id="u07")["decision"].to_list() == ["send"]

    # No member_ref: the person is found by the address, which is not stored.
    body, headers = signed(key, [unsubscribe("u07", "ev-7", with_member_ref=False)])
    with serving(warehouse, public) as url:
        assert post(url, body, headers) == 200

    with connect(warehouse, read_only=True) as conn:
        after = plan_campaign(conn, store_of(warehouse), campaign, template, "mei", DECIDED_AT, "https://example.com/u")
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
    assert rows(warehouse, "SELECT count(DISTINCT user_id) FROM suppressions") == [(len(deliveries),)]


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
    assert rows(warehouse, "SELECT user_id FROM suppressions") == [("u04",)]
    # Neither addresses, bodies nor client IPs reach the log.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "POST -> 200" in logged
    assert "example.test" not in logged and "127.0.0.1" not in logged and "unsubscribe" not in logged


def test_a_server_needs_a_service_that_verifies_signatures(warehouse: Path) -> None:
    unverified = CampaignService(WarehouseSessions(warehouse, "Asia/Shanghai"), store_of(warehouse), StaticRoles({}))
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
    assert rows(warehouse, "SELECT user_id FROM suppressions") == [("u08",)]


def _hold_warehouse(warehouse: Path) -> subprocess.Popen:
    """Another process holding the warehouse open for writing (as `fingrowth run` does) until its stdin closes."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, duckdb; conn = duckdb.connect(sys.argv[1]); print('holding', flush=True); sys.stdin.read()"),
        str(warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_webhook_traffic_never_needs_the_warehouse_an_analytics_run_holds(warehouse: Path) -> None:
    """Signed events go to the campaign store: while another process writes the warehouse they are stored, and
    the receiver never blocks that writer."""
    key, public = signing_key()
    holder = _hold_warehouse(warehouse)
    try:
        with serving(warehouse, public) as url:
            body, headers = signed(key, [unsubscribe("u09", "ev-9")])
            assert post(url, body, headers) == 200
            assert post(url, b"[]", {}) == 401  # unsigned: refused, nothing opened
    finally:
        holder.communicate(input="", timeout=60)
    assert rows(warehouse, "SELECT user_id FROM suppressions") == [("u09",)]
    # And while the receiver serves, an analytics run can take the warehouse for writing.
    with serving(warehouse, public) as url:
        body, headers = signed(key, [unsubscribe("u10", "ev-10")])
        assert post(url, body, headers) == 200
        writer = _hold_warehouse(warehouse)
        writer.communicate(input="", timeout=60)
        assert writer.returncode == 0


def test_an_event_without_member_ref_while_the_warehouse_is_held_is_answered_503_and_stored_on_retry(
        warehouse: Path) -> None:
    key, public = signing_key()
    body, headers = signed(key, [unsubscribe("u11", "ev-11", with_member_ref=False)])
    holder = _hold_warehouse(warehouse)
    try:
        with serving(warehouse, public) as url:
            assert post(url, body, headers) == 503
            holder.communicate(input="", timeout=60)  # the other writer lets go
            assert post(url, body, headers) == 200
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.communicate()
    assert rows(warehouse, "SELECT user_id FROM suppressions") == [("u11",)]


def test_a_malformed_event_is_quarantined_and_the_unsubscribe_beside_it_is_stored(warehouse: Path) -> None:
    key, public = signing_key()
    events = [{**unsubscribe("u12", "ev-12a"), "timestamp": 10**15}, {**unsubscribe("u13", "ev-12b"),
                                                                      "sg_event_id": ["a"]}, unsubscribe("u14", "ev-12c")]
    body, headers = signed(key, events)
    with serving(warehouse, public) as url:
        assert post(url, body, headers) == 200
        assert post(url, body, headers) == 200  # a retry changes nothing
    assert rows(warehouse, "SELECT user_id FROM suppressions") == [("u14",)]
    assert rows(warehouse, "SELECT position, reason FROM event_quarantine ORDER BY position") == [
        (0, "timestamp out of range"), (1, "sg_event_id is not a string")]


def test_slow_and_half_sent_connections_are_closed_after_the_read_timeout(warehouse: Path) -> None:
    _, public = signing_key()
    with serving(warehouse, public, read_timeout=1.0) as url:
        host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
        clients = []
        for number in range(12):
            client = socket.create_connection((host, int(port)), timeout=15)
            # Half the clients stop inside the headers, half promise a body they never send.
            partial = (b"POST /sendgrid/events HTTP/1.1\r\nHost: x\r\n" if number % 2 else
                       b"POST /sendgrid/events HTTP/1.1\r\nContent-Length: 100\r\n\r\n[")
            client.sendall(partial)
            clients.append(client)
        closed = 0
        for client in clients:
            try:
                while client.recv(1024):
                    pass  # a 408 answer may come first; then the server closes
                closed += 1
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass  # still open 15 s later: not cut off
            finally:
                client.close()
        assert closed == len(clients)
        # A client trickling its headers a byte at a time never finishes a request, and is cut off too.
        trickler = socket.create_connection((host, int(port)), timeout=15)
        sent = 0
        try:
            for byte in b"POST /sendgrid/events HTTP/1.1\r\nHost: slow.example\r\nX-Padding: aaaaaaaaaa":
                trickler.sendall(bytes([byte]))
                sent += 1
                threading.Event().wait(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            trickler.close()
        assert sent < 60  # the server closed the connection before the headers could ever end
        # The receiver still answers.
        assert post(url, b"", {}, method="GET") == 405
