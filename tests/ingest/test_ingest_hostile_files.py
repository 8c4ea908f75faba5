"""Landing files no generator of ours wrote: the spellings, encodings, shapes and mistakes of real exports.

Each test is one defect found by feeding hostile landing folders to the pipeline; each failed before the
fix. The files are written by hand here, byte by byte where the bytes matter.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal

import polars as pl
import pytest

from ingest.landing import ContractError
from quality.suites import validate_staged_table
from tests.ingest.staging_harness import stage_folder

USERS = "user_id,signup_at\nu1,2026-01-01\nu2,2026-01-02\n"


def write(path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def transactions(*rows: str) -> str:
    return "txn_id,user_id,occurred_at,amount\n" + "".join(f"{row}\n" for row in rows)


# ------------------------------------------------------------------------------------------ values

def test_common_spellings_of_gender_booleans_and_risk_levels_stage_every_user(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", "user_id,signup_at,gender,is_student,risk_level,province\n"
                                 "u1,2026-01-01,M,否,c3,广东省\nu2,2026-01-02,F,是,C5,北京市\nu3,2026-01-03,男,0,3,浙江\n"
                                 "u4,2026-01-04,女,yes,C1,上海\n")
    write(landing / "transactions.csv", transactions("t1,u1,2026-01-05,1.00"))
    staged = stage_folder(landing, tmp_path, ("users", "transactions"))
    assert staged.counts["users"].rows_staged == 4 and staged.counts["users"].rows_quarantined == 0
    assert staged.rows("SELECT user_id, gender, is_student, risk_level, province FROM staged.users ORDER BY 1") == [
        ("u1", "male", False, "C3", "广东"), ("u2", "female", True, "C5", "北京"), ("u3", "male", False, "C3", "浙江"),
        ("u4", "female", True, "C1", "上海")]
    mappings = dict(staged.rows("SELECT column_name || ' ' || mapping, values FROM quarantine.value_mappings"))
    assert mappings["gender 'M' read as 'male'"] == 1 and mappings["gender '女' read as 'female'"] == 1
    assert mappings["is_student '是' read as 'true'"] == 1 and mappings["province '广东省' read as '广东'"] == 1
    assert staged.counts["users"].values_mapped == sum(mappings.values())


def test_a_bad_optional_value_keeps_its_row_and_a_bad_key_or_amount_does_not(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", "user_id,signup_at,gender,birth_date,email\n"
                                 "u1,2026-01-01,robot,1990-02-30,a@example.com\n,2026-01-02,female,1990-01-01,\n")
    write(landing / "transactions.csv", transactions("t1,u1,2026-01-05,1.00", "t2,u1,2026-01-05,1.001"))
    staged = stage_folder(landing, tmp_path, ("users", "transactions"))
    assert staged.rows("SELECT user_id, gender, birth_year FROM staged.users") == [("u1", None, None)]
    assert staged.findings("users", "value") == [
        ("users.csv", 2, "birth_date: *** is not an ISO 8601 date"),
        ("users.csv", 2, 'gender: "robot" is not one of female, male, other, unknown')]
    assert staged.findings("users") == [("users.csv", 3, "user_id: required value is missing")]
    assert staged.findings("transactions") == [
        ("transactions.csv", 3, 'amount: "1.001" is not an amount with at most two decimals')]


def test_far_future_named_and_malformed_instants_are_rejected_not_blanked(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", "user_id,signup_at,birth_date\nu1,2026-01-01,2300-01-01\nu2,2026-01-01,1990-01-01\n")
    write(landing / "transactions.csv", transactions(
        "t1,u1,2250-01-01T00:00:00Z,1.00", "t2,u1,infinity,1.00", "t3,u1,epoch,1.00",
        "t4,u1,2026-01-10T10:00:00-99:00,1.00", "t5,u1,2026/01/10,1.00", "t6,u1,1850-01-01,1.00",
        "t7,u1,2026-01-10T10:00:00+14:00,1.00"))
    staged = stage_folder(landing, tmp_path, ("users", "transactions"))
    reasons = [reason for _, _, reason in staged.findings("transactions")]
    assert reasons[0].startswith('occurred_at: "2250-01-01T00:00:00Z" is in the future (after ')
    assert reasons[1:] == [
        'occurred_at: "infinity" is not an ISO 8601 timestamp', 'occurred_at: "epoch" is not an ISO 8601 timestamp',
        'occurred_at: "2026-01-10T10:00:00-99:00" is not an ISO 8601 timestamp',
        'occurred_at: "2026/01/10" is not an ISO 8601 timestamp', 'occurred_at: "1850-01-01" is before 1900']
    assert staged.rows("SELECT txn_id FROM staged.transactions") == [("t7",)]
    # An optional date in the future is a finding: the user stays, the date is null (and never shown).
    [(_, line, reason)] = staged.findings("users", "value")
    assert line == 2 and reason.startswith("birth_date: *** is in the future")
    assert staged.rows("SELECT user_id, birth_year FROM staged.users ORDER BY 1") == [("u1", None), ("u2", 1990)]


def test_a_parquet_decimal_finer_than_cents_is_staged_when_its_values_are_exact_to_the_cent(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", USERS)
    pl.DataFrame({"txn_id": ["t1", "t2"], "user_id": ["u1", "u2"],
                  "occurred_at": [dt.datetime(2026, 1, 5, tzinfo=dt.UTC)] * 2,
                  "amount": [Decimal("12.340"), Decimal("12.345")]},
                 schema_overrides={"amount": pl.Decimal(12, 3)}).write_parquet(landing / "transactions.parquet")
    staged = stage_folder(landing, tmp_path, ("users", "transactions"))
    assert staged.rows("SELECT txn_id, amount FROM staged.transactions") == [("t1", Decimal("12.34"))]
    assert staged.findings("transactions") == [
        ("transactions.parquet", 2, 'amount: "12.345" is not an amount with at most two decimals')]


# ------------------------------------------------------------------------------------------ rows

def test_a_csv_row_with_too_few_fields_is_rejected_and_shifts_no_contact_into_the_open(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", "user_id,signup_at,gender,email,phone\nu1,2026-01-01,female,a@example.com,13800000001\n"
                                 "u2,2026-01-02,b@example.com,13800000002\n")
    write(landing / "transactions.csv", transactions("t1,u1,2026-01-05,10.00", "t2,u1,2026-01-05"))
    staged = stage_folder(landing, tmp_path, ("users", "transactions"))
    assert staged.rows("SELECT txn_id FROM staged.transactions") == [("t1",)]
    assert staged.rows("SELECT sum(amount) FROM staged.transactions") == [(Decimal("10.00"),)]
    assert staged.findings("transactions") == [("transactions.csv", 3, "expected 4 fields, found 3")]
    [(file, line, reason)] = staged.findings("users")
    assert (file, line) == ("users.csv", 3) and reason.startswith("expected 5 fields, found 4")
    everything = " ".join(str(v) for row in staged.rows("SELECT * FROM quarantine.users") for v in row)
    assert "example.com" not in everything and "1380000000" not in everything


def test_a_good_copy_after_a_rejected_first_copy_is_staged(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", USERS)
    write(landing / "transactions.csv", transactions("t1,ghost,2026-01-05,10.00", "t1,u1,2026-01-05,10.00",
                                                     "t1,u1,2026-01-05,10.00"))
    staged = stage_folder(landing, tmp_path, ("users", "transactions"))
    assert staged.rows("SELECT txn_id, user_id, amount FROM staged.transactions") == [("t1", "u1", Decimal("10.00"))]
    assert staged.findings("transactions") == [
        ("transactions.csv", 2, 'user_id: "ghost" is not a known users.user_id'),
        ("transactions.csv", 4, "duplicate: exact copy of transactions.csv line 3")]


def test_a_transaction_before_its_users_sign_up_is_quarantined_with_the_reason(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", "user_id,signup_at\nu1,2026-01-10\n")
    write(landing / "transactions.csv", transactions("t1,u1,2026-01-05,10.00", "t2,u1,2026-01-11,10.00"))
    staged = stage_folder(landing, tmp_path, ("users", "transactions"))
    assert staged.findings("transactions") == [
        ("transactions.csv", 2, "user_id: u1 signed up on 2026-01-10, after this transaction")]


# ------------------------------------------------------------------------------------------ files

def test_a_file_that_is_not_in_its_declared_encoding_stops_naming_the_file_and_the_byte(tmp_path):
    landing = tmp_path / "landing"
    text = "user_id,signup_at,province,city\nu1,2026-01-01,广东,深圳\n"
    write(landing / "users.csv", text.encode("gbk"))
    write(landing / "transactions.csv", transactions("t1,u1,2026-01-05,1.00"))
    with pytest.raises(ContractError) as stop:
        stage_folder(landing, tmp_path / "utf8", ("users",))
    offset = len(b"user_id,signup_at,province,city\nu1,2026-01-01,")
    assert str(stop.value).startswith(f"users.csv is not valid utf-8: the first bad byte is at offset {offset} (line 2, ")
    assert "_sources.yaml" in str(stop.value)
    # Declared, it is read: GB18030 is a superset of GBK.
    write(landing / "_sources.yaml", "sources:\n  users:\n    encoding: gb18030\n")
    staged = stage_folder(landing, tmp_path / "gb", ("users", "transactions"))
    assert staged.rows("SELECT province, city FROM staged.users") == [("广东", "深圳")]


def test_a_file_in_the_wrong_declared_encoding_names_it_too(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", USERS)
    write(landing / "_sources.yaml", "sources:\n  users:\n    encoding: ascii\n  nosuch:\n    encoding: gbk\n")
    with pytest.raises(Exception, match=r"_sources\.yaml.*nosuch"):
        stage_folder(landing, tmp_path, ("users",))


def test_empty_files_count_as_no_rows_and_name_themselves(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", USERS)
    write(landing / "events" / "date=2026-01-05" / "a.csv", "")
    write(landing / "events" / "date=2026-01-05" / "b.csv",
          "event_id,occurred_at,event_name,user_id\ne1,2026-01-05T10:00:00+08:00,app_open,u1\n")
    staged = stage_folder(landing, tmp_path, ("users", "events"), parquet=True)
    assert staged.counts["events"].rows_staged == 1 and staged.counts["events"].balanced
    assert staged.rows("SELECT source_file, count FROM quarantine.events WHERE kind = 'read' ORDER BY 1") == [
        ("events/date=2026-01-05/a.csv", 0), ("events/date=2026-01-05/b.csv", 1)]


def test_line_endings_byte_order_marks_letter_case_and_gzip_are_read(tmp_path):
    landing = tmp_path / "landing"
    # Old Mac line endings (CR only), and a BOM at the start of a JSON lines file.
    write(landing / "users.csv", b"user_id,signup_at\ru1,2026-01-01\ru2,2026-01-02\r")
    first = {"event_id": "e1", "occurred_at": "2026-01-05T10:00:00+08:00", "event_name": "app_open", "user_id": "u1"}
    second = {**first, "event_id": "e2"}
    write(landing / "events.JSONL", b"\xef\xbb\xbf" + json.dumps(first).encode() + b"\n" + json.dumps(second).encode())
    write(landing / "transactions" / "part-1.csv.gz", gzip.compress(transactions("t1,u1,2026-01-05,1.00").encode()))
    write(landing / "transactions" / "part-2.CSV", transactions("t2,u2,2026-01-05,2.00"))
    pl.DataFrame({"occurred_at": ["2026-01-05T09:00:00+08:00"], "channel": ["search_ads"], "user_id": ["u1"]}
                 ).write_parquet(landing / "touchpoints.PARQUET")
    staged = stage_folder(landing, tmp_path, ("users", "transactions", "events", "touchpoints"))
    assert {name: c.rows_staged for name, c in staged.counts.items()} == {
        "users": 2, "transactions": 2, "events": 2, "touchpoints": 1}
    assert staged.rows("SELECT event_id FROM staged.events ORDER BY 1") == [("e1",), ("e2",)]


def test_a_file_of_another_format_in_a_source_folder_stops_naming_it(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", USERS)
    write(landing / "events" / "part.json", "[]")
    write(landing / "events" / "_notes.txt", "left out: starts with _")
    with pytest.raises(ContractError, match=r"^events/part\.json: a source folder may hold only"):
        stage_folder(landing, tmp_path, ("users", "events"))


def test_json_lines_report_the_physical_line_after_blank_lines(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", USERS)
    good = {"event_id": "e1", "occurred_at": "2026-01-05T10:00:00+08:00", "event_name": "app_open", "user_id": "u1"}
    lines = [json.dumps(good), "", "   ", "{broken", json.dumps({**good, "event_id": "e2", "extra_key": "kept"}), "[1]"]
    write(landing / "events" / "date=2026-01-05" / "e.jsonl", "\n".join(lines) + "\n")
    staged = stage_folder(landing, tmp_path, ("users", "events"), parquet=True)
    assert staged.findings("events") == [("events/date=2026-01-05/e.jsonl", 4, "line is not valid JSON"),
                                         ("events/date=2026-01-05/e.jsonl", 6, "line is not a JSON object")]
    # A key that only a later line has is found and kept, in raw and in staged.
    assert staged.rows("SELECT event_id, extra_key FROM staged.events ORDER BY 1") == [("e1", None), ("e2", "kept")]
    assert "extra_key" in {name for name, *_ in staged.rows("DESCRIBE raw.events")}
    assert staged.counts["events"].rows_in == 4


# ------------------------------------------------------------------------------------------ column names

def test_extra_columns_named_like_internal_ones_are_kept_as_extras(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "users.csv", USERS)
    write(landing / "transactions.csv", 'txn_id,user_id,occurred_at,amount,row_reasons,_read_error,_line,"say ""hi"""\n'
                                        "t1,u1,2026-01-05,1.00,a,b,c,d\nt2,u1,2026-01-05,x,a,b,c,d\n")
    staged = stage_folder(landing, tmp_path, ("users", "transactions"))
    assert staged.rows('SELECT txn_id, row_reasons, _read_error, _line, "say ""hi""" FROM staged.transactions') == [
        ("t1", "a", "b", "c", "d")]
    assert staged.findings("transactions") == [
        ("transactions.csv", 3, 'amount: "x" is not an amount with at most two decimals')]
    outcome = validate_staged_table(staged.conn, "transactions")
    assert outcome.success, outcome.summary()


@pytest.mark.parametrize("name", ["__fg_line", "event_date"])
def test_a_column_named_like_one_staging_adds_stops_naming_file_and_column(tmp_path, name):
    landing = tmp_path / "landing"
    write(landing / "users.csv", USERS)
    write(landing / "events.csv", f"event_id,occurred_at,event_name,user_id,{name}\ne1,2026-01-05,open,u1,x\n")
    with pytest.raises(ContractError, match=rf"^events\.csv: column '{name}' has a name staging uses"):
        stage_folder(landing, tmp_path, ("users", "events"))
