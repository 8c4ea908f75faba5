"""Throughput of a 100,000-recipient live launch against the local SendGrid server (not a test).

Run from the repository root: `.venv/bin/python bench/campaign_launch.py [--recipients N]`.
Measures `campaigns.delivery.sendgrid_email.deliver` end to end: ledger writes (a SQLite campaign store), contact reads, payload building, the real
`sendgrid` client, and the local server's contract checks. The network is loopback, so this is the
pipeline's own ceiling, not SendGrid's.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402
import polars as pl  # noqa: E402

from campaigns import load_template, template_path  # noqa: E402
from campaigns.delivery.contact_book import ContactBook  # noqa: E402
from campaigns.delivery.sendgrid_email import SenderConfig, deliver  # noqa: E402
from campaigns.store.op_database import OpStore  # noqa: E402
from tests.campaigns.sendgrid_server import TEST_KEY, FakeSendGrid  # noqa: E402
from warehouse import connect  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    server = FakeSendGrid().start()
    folder = Path(tempfile.mkdtemp(prefix="fg-bench-"))
    with duckdb.connect(str(folder / "contacts.duckdb")) as conn:
        conn.execute("CREATE SCHEMA private")
        conn.execute(f"CREATE TABLE private.user_contacts AS SELECT 'u' || lpad(i::VARCHAR, 7, '0') AS user_id, "
                     f"'u' || lpad(i::VARCHAR, 7, '0') || '@mail.example.cn' AS email FROM range({args.recipients}) t(i)")
    contacts = ContactBook(lambda: connect(folder / "contacts.duckdb", read_only=True))
    store = OpStore(f"sqlite:///{folder / 'campaigns.sqlite3'}")
    people = pl.DataFrame({"user_id": [f"u{i:07d}" for i in range(args.recipients)]})
    template = load_template(template_path("wealth_welcome", 1))
    config = SenderConfig("marketing@example.com", "示例数字金融", 101, host=server.base_url, batch_size=args.batch_size)
    started = time.perf_counter()
    report = deliver(store, contacts, campaign_id="bench", template=template, eligible=people, config=config, actor="bench",
                     api_key=TEST_KEY, live=True)
    seconds = time.perf_counter() - started
    server.stop()
    recipients = server.recipients()
    assert len(recipients) == len(set(recipients)) == args.recipients, "every recipient exactly once"
    print(f"recipients {report.recipients_accepted:,} in {report.requests} requests, {seconds:.2f}s wall, "
          f"{report.recipients_accepted / seconds:,.0f} recipients/s")


if __name__ == "__main__":
    main()
