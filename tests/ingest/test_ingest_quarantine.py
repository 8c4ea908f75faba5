"""Every kind of bad row lands in quarantine with its file, line and reason; nothing else is lost."""

import datetime as dt
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from ingest.accounting import create_rejected_rows_view, record_row_accounting
from ingest.contracts import CONTRACTS
from ingest.landing import ContractError
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
        counts[contract.name] = stage_source(conn, contract, tmp_path / "landing", "run-1", staged_sources)
        if loaded.present:
            staged_sources.add(contract.name)
    record_row_accounting(conn, CONTRACTS, "run-1")
    create_rejected_rows_view(conn, CONTRACTS)
    yield conn, expected, counts
    conn.close()


def test_every_bad_row_is_quarantined_and_every_bad_optional_value_is_a_finding(staged):
    conn, expected, _ = staged
    rejected = read_frame(conn, "SELECT 'row', source, source_file, line, reasons FROM quarantine.rejected_rows "
                                "UNION ALL SELECT 'value', source, source_file, line, reasons FROM quarantine.value_findings")
    found = {(k, s, f, line): r for k, s, f, line, r in rejected.iter_rows()}
    for item in expected:
        key = (item.kind, item.source, item.source_file, item.line)
        assert key in found, f"{key} was not found"
        assert item.reason in found[key], f"{key}: expected {item.reason!r} in {found[key]!r}"
    assert len(found) == len(expected), f"unexpected findings: {set(found) - {(i.kind, i.source, i.source_file, i.line) for i in expected}}"


def test_a_bad_optional_value_is_stored_as_null_and_counted(staged):
    conn, _, counts = staged
    assert conn.sql("SELECT gender, city_tier FROM staged.users WHERE user_id IN ('u8', 'u9') ORDER BY 1 NULLS FIRST"
                    ).fetchall() == [(None, 1), ("female", None)]
    assert conn.sql("SELECT product_id FROM staged.transactions WHERE txn_id = 't4'").fetchone() == (None,)
    assert counts["users"].values_nulled == 7
    accounting = dict(conn.sql("SELECT source, values_nulled FROM quarantine.row_accounting").fetchall())
    assert accounting["users"] == 7 and accounting["transactions"] == 1 and accounting["events"] == 2


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
    assert str(amounts[0]) == "2110.50" and amounts[1].startswith("DECIMAL")
    staged_columns = {r[0] for r in conn.sql("DESCRIBE staged.users").fetchall()}
    assert not {"email", "phone", "birth_date"} & staged_columns
    assert {"birth_year", "extra_note"} <= staged_columns  # extra columns are kept
    contacts = read_frame(conn, "SELECT user_id, email FROM private.user_contacts ORDER BY user_id")
    assert contacts["email"].to_list()[0] == "u1@example.com"
    records = " ".join(v for v in read_frame(conn, "SELECT record FROM quarantine.rejected_rows")["record"].to_list() if v)
    assert "@example.com" not in records and "1380000000" not in records
    raw = " ".join(str(v) for row in conn.sql("SELECT * FROM raw.users").fetchall() for v in row)
    assert "@example.com" not in raw and "1380000000" not in raw and "1990-05-01" not in raw


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
        load_raw(conn, contract, landing)
        stage_source(conn, contract, landing, "r", {"users"} if contract.name != "users" else set())
    assert conn.sql("SELECT count(*) FROM staged.events").fetchone()[0] == 0
    assert "event_id" in {r[0] for r in conn.sql("DESCRIBE staged.events").fetchall()}


def test_json_lines_with_bytes_that_are_not_utf8_stop_naming_the_file_and_byte(tmp_path):
    landing = tmp_path / "landing"
    (landing / "events" / "date=2026-01-10").mkdir(parents=True)
    (landing / "users.csv").write_text("user_id,signup_at\nu1,2026-01-01\n")
    good = b'{"event_id": "e1", "occurred_at": "2026-01-10T01:00:00Z", "event_name": "open", "user_id": "u1"}'
    bad = b'{"event_id": "e2", "occurred_at": "2026-01-10T01:00:00Z", "event_name": "op\xffen", "user_id": "u1"}'
    (landing / "events" / "date=2026-01-10" / "events.jsonl").write_bytes(good + b"\n\n" + bad + b"\n")
    conn = connect(tmp_path / "w.duckdb")
    users = next(c for c in CONTRACTS if c.name == "users")
    load_raw(conn, users, landing)
    stage_source(conn, users, landing, "r", set())
    events = next(c for c in CONTRACTS if c.name == "events")
    with pytest.raises(ContractError) as stop:
        load_raw(conn, events, landing)
        stage_source(conn, events, landing, "r", {"users"})
    offset = len(good) + 2 + bad.index(b"\xff")
    assert str(stop.value).startswith(f"events/date=2026-01-10/events.jsonl is not valid utf-8: the first bad byte is "
                                      f"at offset {offset} (line 3, bytes ff")
    conn.close()


def test_typed_parquet_columns_are_staged_exactly_and_extras_kept_as_text(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_text("user_id,signup_at\nu1,2026-01-01\n")
    frame = pl.DataFrame({
        "loan_id": ["l1", "l2"], "user_id": ["u1", "u1"],
        "as_of": [dt.date(2026, 1, 31), dt.date(2026, 2, 28)],
        "principal": [Decimal("1000.10"), Decimal("5.00")], "days_past_due": [0, -1],
        "noted_at": [dt.datetime(2026, 1, 31, 1, tzinfo=dt.timezone.utc)] * 2,
    }, schema_overrides={"principal": pl.Decimal(18, 2), "days_past_due": pl.Int32})
    frame.write_parquet(landing / "loan_performance.parquet")
    conn = connect(tmp_path / "w.duckdb")
    for name in ("users", "loan_performance"):
        contract = next(c for c in CONTRACTS if c.name == name)
        load_raw(conn, contract, landing)
        stage_source(conn, contract, landing, "r", {"users"} if name != "users" else set())
    assert conn.sql("SELECT principal::VARCHAR, as_of::VARCHAR, noted_at FROM staged.loan_performance").fetchall() == [
        ("1000.10", "2026-01-31", "2026-01-31T01:00:00.000000+00:00")]
    rejected = conn.sql("SELECT source_file, line, reasons FROM quarantine.loan_performance WHERE kind = 'row'").fetchall()
    assert rejected == [("loan_performance.parquet", 2, 'days_past_due: "-1" is below the minimum 0')]
    conn.close()


def test_typed_parquet_values_are_range_checked_without_parsing_text(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_text("user_id,signup_at\nu1,2026-01-01\n")
    pl.DataFrame({
        "loan_id": ["l1", "l2", "l3"], "user_id": ["u1", "u1", "u1"],
        "as_of": [dt.date(2026, 1, 31), dt.date(2500, 1, 1), dt.date(2026, 2, 28)],
        "principal": [Decimal("1000.10"), Decimal("5.00"), Decimal("12345678901234567890.00")],
    }, schema_overrides={"principal": pl.Decimal(38, 2)}).write_parquet(landing / "loan_performance.parquet")
    # A timestamp without a zone is read in the business time zone, as its text would be.
    pl.DataFrame({
        "txn_id": ["t1"], "user_id": ["u1"], "occurred_at": [dt.datetime(2026, 1, 31, 9, 30)],
        "amount": [Decimal("10.50")],
    }, schema_overrides={"amount": pl.Decimal(10, 2)}).write_parquet(landing / "transactions.parquet")
    conn = connect(tmp_path / "w.duckdb")
    for name in ("users", "loan_performance", "transactions"):
        contract = next(c for c in CONTRACTS if c.name == name)
        load_raw(conn, contract, landing)
        stage_source(conn, contract, landing, "r", {"users"} if name != "users" else set())
    raw_types = dict(conn.sql("SELECT column_name, data_type FROM information_schema.columns "
                              "WHERE table_schema = 'raw' AND table_name = 'loan_performance'").fetchall())
    assert raw_types["as_of"] == "DATE" and raw_types["principal"] == "DECIMAL(38,2)"
    assert conn.sql("SELECT loan_id, as_of, principal FROM staged.loan_performance").fetchall() == [
        ("l1", dt.date(2026, 1, 31), Decimal("1000.10"))]
    rejected = conn.sql("SELECT line, reasons FROM quarantine.loan_performance WHERE kind = 'row' ORDER BY line").fetchall()
    assert rejected == [(2, 'as_of: "2500-01-01" is in the future' + rejected[0][1].split("future")[1]),
                        (3, 'principal: "12345678901234567890.00" does not fit DECIMAL(18, 2)')]
    local = conn.sql("SELECT strftime(occurred_at AT TIME ZONE 'Asia/Shanghai', '%Y-%m-%d %H:%M'), "
                     "typeof(occurred_at), amount FROM staged.transactions").fetchall()
    assert local == [("2026-01-31 09:30", "TIMESTAMP WITH TIME ZONE", Decimal("10.50"))]
    conn.close()


def test_a_text_amount_too_large_for_the_warehouse_is_quarantined_not_fatal(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_text("user_id,signup_at\nu1,2026-01-01\n")
    (landing / "transactions.csv").write_text(
        "txn_id,user_id,occurred_at,amount\nt1,u1,2026-01-31T09:30:00+08:00,10.50\n"
        "t2,u1,2026-01-31T09:31:00+08:00,123456789012345678901.00\n")
    conn = connect(tmp_path / "w.duckdb")
    for name in ("users", "transactions"):
        contract = next(c for c in CONTRACTS if c.name == name)
        load_raw(conn, contract, landing)
        stage_source(conn, contract, landing, "r", {"users"} if name != "users" else set())
    assert conn.sql("SELECT txn_id FROM staged.transactions").fetchall() == [("t1",)]
    assert conn.sql("SELECT line, reasons FROM quarantine.transactions WHERE kind = 'row'").fetchall() == [
        (3, 'amount: "123456789012345678901.00" does not fit DECIMAL(18, 2)')]
    conn.close()
