"""Every kind of bad row lands in quarantine with its file, line and reason; nothing else is lost."""

import duckdb
import pytest

from ingest.contracts import CONTRACTS
from ingest.staging import load_raw, stage_source
from tests.ingest.bad_landing import GOOD_ROWS, write_bad_landing
from warehouse import connect, read_frame


@pytest.fixture
def staged(tmp_path):
    expected = write_bad_landing(tmp_path / "landing")
    conn = connect(tmp_path / "w.duckdb")
    staged_sources: set[str] = set()
    counts = {}
    for contract in CONTRACTS:
        loaded = load_raw(conn, contract, tmp_path / "landing")
        counts[contract.name] = stage_source(conn, contract, "run-1", staged_sources, present=loaded.present)
        if loaded.present:
            staged_sources.add(contract.name)
    yield conn, expected, counts
    conn.close()


def test_every_bad_row_is_quarantined_with_its_reason(staged):
    conn, expected, _ = staged
    rejected = read_frame(conn, "SELECT source, source_file, line, reasons FROM quarantine.rejected_rows")
    found = {(s, f, l): r for s, f, l, r in rejected.iter_rows()}
    for item in expected:
        key = (item.source, item.source_file, item.line)
        assert key in found, f"{key} was not quarantined"
        assert item.reason in found[key], f"{key}: expected {item.reason!r} in {found[key]!r}"
    assert len(found) == len(expected), "quarantine holds rows no one expected"


def test_rows_in_equal_rows_staged_plus_quarantined(staged):
    conn, _, counts = staged
    for source, count in counts.items():
        assert count.balanced, source
        assert count.rows_staged == GOOD_ROWS[source], source
    accounting = read_frame(conn, "SELECT source, rows_in, rows_staged, rows_quarantined, balanced FROM quarantine.row_accounting")
    assert accounting["balanced"].all()
    assert (accounting["rows_in"] == accounting["rows_staged"] + accounting["rows_quarantined"]).all()


def test_money_is_exact_and_contacts_stay_private(staged):
    conn, _, _ = staged
    amounts = conn.sql("SELECT sum(amount), typeof(sum(amount)) FROM staged.transactions").fetchone()
    assert str(amounts[0]) == "2100.50" and amounts[1].startswith("DECIMAL")
    staged_columns = {r[0] for r in conn.sql("DESCRIBE staged.users").fetchall()}
    assert not {"email", "phone", "birth_date"} & staged_columns
    assert {"birth_year", "extra_note"} <= staged_columns  # extra columns are kept
    contacts = read_frame(conn, "SELECT user_id, email FROM private.user_contacts ORDER BY user_id")
    assert contacts["email"].to_list()[0] == "u1@example.com"
    records = " ".join(read_frame(conn, "SELECT record FROM quarantine.rejected_rows")["record"].to_list())
    assert "@example.com" not in records and "1380000000" not in records


def test_naive_timestamps_are_read_in_the_business_time_zone(staged):
    conn, _, _ = staged
    signup = conn.sql("SELECT strftime(signup_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') FROM staged.users WHERE user_id = 'u1'").fetchone()[0]
    assert signup == "2026-01-01 01:00"  # 09:00 in Asia/Shanghai


def test_absent_optional_sources_give_empty_tables(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_text("user_id,signup_at\nu1,2026-01-01\n")
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'Asia/Shanghai'")
    for contract in CONTRACTS:
        loaded = load_raw(conn, contract, landing)
        stage_source(conn, contract, "r", {"users"} if contract.name != "users" else set(), present=loaded.present)
    assert conn.sql("SELECT count(*) FROM staged.events").fetchone()[0] == 0
    assert "event_id" in {r[0] for r in conn.sql("DESCRIBE staged.events").fetchall()}
