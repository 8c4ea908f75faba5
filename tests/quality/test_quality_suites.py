"""Great Expectations suites over staged tables: pass on clean data, name the column on every kind of breach."""

import duckdb
import pytest

from ingest.contracts import CONTRACTS_BY_NAME
from ingest.staging import load_raw, stage_source
from quality.suites import validate_staged_table


@pytest.fixture
def conn(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_text("user_id,signup_at,gender\nu1,2026-01-01,female\nu2,2026-01-02,male\n")
    (landing / "transactions.csv").write_text(
        "txn_id,user_id,occurred_at,amount\n" + "".join(f"t{i},u{1 + i % 2},2026-01-0{3 + i % 5},1{i}.25\n" for i in range(9)))
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    staged: set[str] = set()
    for name in ("users", "transactions"):
        load_raw(connection, CONTRACTS_BY_NAME[name], landing)
        stage_source(connection, CONTRACTS_BY_NAME[name], landing, "run", staged)
        staged.add(name)
    yield connection
    connection.close()


def test_clean_staged_tables_pass_on_every_row(conn):
    outcome = validate_staged_table(conn, "transactions", min_rows=1, batch_rows=4)
    assert outcome.success, outcome.summary()
    assert outcome.rows_checked == 9 and outcome.batches == 3


@pytest.mark.parametrize(
    ("breach", "expectation", "column"),
    [
        ("UPDATE staged.transactions SET user_id = 'ghost' WHERE txn_id = 't8'",
         "expect_column_values_to_be_null", "user_id_not_in_users"),
        ("UPDATE staged.transactions SET txn_id = 't0' WHERE txn_id = 't8'",
         "expect_column_values_to_be_unique", "txn_id"),
        ("UPDATE staged.transactions SET amount = NULL WHERE txn_id = 't8'",
         "expect_column_values_to_not_be_null", "amount"),
        ("UPDATE staged.users SET gender = 'robot' WHERE user_id = 'u2'",
         "expect_column_values_to_be_in_set", "gender"),
    ],
)
def test_each_breach_fails_and_names_its_column(conn, breach, expectation, column):
    conn.execute(breach)
    source = "users" if "staged.users" in breach else "transactions"
    # Small batches: a breach in the last batch, or a duplicate across batches, must still be found.
    outcome = validate_staged_table(conn, source, batch_rows=4)
    assert not outcome.success
    assert (expectation, column) in {(f["expectation"], f["column"]) for f in outcome.failures}, outcome.failures


def test_an_empty_required_table_fails_its_volume_expectation(conn):
    conn.execute("DELETE FROM staged.transactions")
    outcome = validate_staged_table(conn, "transactions", min_rows=1)
    assert not outcome.success
    assert "expect_table_row_count_to_be_between" in {f["expectation"] for f in outcome.failures}
