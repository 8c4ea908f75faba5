"""Integrity checks find duplicate and null keys, unresolved references and money that does not add up."""

from decimal import Decimal

import duckdb
import pytest

from warehouse.integrity import (
    ForeignKey,
    MoneyTotal,
    TableContract,
    check_foreign_keys,
    check_money,
    check_primary_key,
)


@pytest.fixture
def conn():
    connection = duckdb.connect()
    connection.execute("""
        CREATE TABLE users AS SELECT * FROM (VALUES ('u1'), ('u2')) t(user_id);
        CREATE TABLE orders (order_id VARCHAR, user_id VARCHAR, model VARCHAR, amount DECIMAL(18, 2), share DOUBLE);
        INSERT INTO orders VALUES ('o1', 'u1', 'a', 10.10, 0.5), ('o2', 'u2', 'a', 5.00, 0.5),
                                  ('o1', 'u1', 'b', 15.00, 0.25), ('o2', NULL, 'b', 0.00, 0.75);
        CREATE TABLE payments AS SELECT * FROM (VALUES ('u1', 10.10::DECIMAL(18, 2)), ('u2', 5.00), ('u9', 99.00))
            t(user_id, amount);
    """)
    yield connection
    connection.close()


def test_a_unique_key_passes_and_a_repeated_or_null_one_fails(conn):
    assert check_primary_key(conn, TableContract("orders", ("order_id", "model"))).passed
    repeated = check_primary_key(conn, TableContract("orders", ("order_id",)))
    assert not repeated.passed and repeated.metadata["duplicate_keys"] == 2
    nulls = check_primary_key(conn, TableContract("orders", ("user_id", "model")))
    assert not nulls.passed and nulls.metadata["null_keys"] == 1
    assert check_primary_key(conn, TableContract("orders", ("user_id", "model"), nullable_key=("user_id",))).passed


def test_exactly_one_row(conn):
    assert check_primary_key(conn, TableContract("users", single_row=True)).description.endswith("one expected")
    assert not check_primary_key(conn, TableContract("users", single_row=True)).passed
    assert check_primary_key(conn, TableContract("(SELECT 1)", single_row=True)).passed


def test_references_resolve_and_a_null_reference_points_nowhere(conn):
    assert check_foreign_keys(conn, TableContract("orders", foreign_keys=(ForeignKey(("user_id",), "users"),))).passed
    orphans = check_foreign_keys(conn, TableContract("payments", foreign_keys=(ForeignKey(("user_id",), "users"),)))
    assert not orphans.passed and orphans.metadata["unresolved"] == {"user_id -> users": 1}


def test_money_totals_to_the_cent_overall_per_group_and_within_a_join(conn):
    # Each model's block of orders should add up to what the users named in the table paid (u1, u2: 15.10).
    per_model = MoneyTotal("amount", "payments", "amount", on=("user_id",), per=("model",))
    outcome = check_money(conn, TableContract("orders", money=(per_model,)))
    assert not outcome.passed and "for a" not in outcome.description and "for b: 15.00 vs 15.10" in outcome.description
    paid_by_known = MoneyTotal("amount", "payments", "amount", where="user_id <> 'u9'")
    assert not check_money(conn, TableContract("orders", money=(paid_by_known,))).passed  # 30.10 vs 15.10
    conn.execute("DELETE FROM orders WHERE model = 'b'")
    assert check_money(conn, TableContract("orders", money=(paid_by_known,))).passed
    assert check_money(conn, TableContract("orders", money=(per_model,))).passed


def test_doubles_compare_within_the_tolerance(conn):
    shares = "(SELECT share FROM orders WHERE model = 'a')"  # 0.5 + 0.5
    rounded = MoneyTotal("share", "(SELECT 1.0000001 AS share)", "share")
    assert not check_money(conn, TableContract(shares, money=(rounded,))).passed
    assert check_money(conn, TableContract(shares, money=(MoneyTotal(**{**rounded.__dict__, "tolerance": 1e-6}),))).passed
    exact = check_money(conn, TableContract("payments", money=(MoneyTotal("amount", "payments", "amount"),)))
    assert exact.passed and exact.metadata["totals"] == {"amount = payments.amount": f"{Decimal('114.10')} vs {Decimal('114.10')}"}


def test_money_per_group_on_both_sides(conn):
    conn.execute("CREATE TABLE model_totals AS SELECT * FROM (VALUES ('a', 15.10::DECIMAL(18, 2)), ('b', 15.00)) "
                 "t(model, amount)")
    both = MoneyTotal("amount", "model_totals", "amount", per=("model",), per_both=True)
    assert check_money(conn, TableContract("orders", money=(both,))).passed
    conn.execute("UPDATE model_totals SET amount = 15.01 WHERE model = 'b'")
    outcome = check_money(conn, TableContract("orders", money=(both,)))
    assert not outcome.passed and "for b: 15.00 vs 15.01" in outcome.description and "for a" not in outcome.description
