"""Console accounts in the campaign store (SQLite and Postgres): Argon2 hashes, lockout, disabling, sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaigns.campaign_errors import AccountError
from campaigns.governance import accounts as book
from campaigns.store.op_tables import accounts, console_sessions

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough pass phrase"


def test_the_password_is_stored_only_as_an_argon2id_hash(op_store):
    with op_store.transaction() as conn:
        book.add_account(conn, "mei", "marketer", PASSWORD, NOW)
        stored = conn.execute(select(accounts.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(("name", "role", "password", "problem"), [
    ("Mei Li", "marketer", PASSWORD, "account name"),
    ("mei", "boss", PASSWORD, "unknown role"),
    ("mei", "marketer", "short", "at least 12"),
])
def test_bad_account_requests_are_named(op_store, name, role, password, problem):
    with pytest.raises(AccountError, match=problem), op_store.transaction() as conn:
        book.add_account(conn, name, role, password, NOW)


def test_five_failures_lock_the_account_and_a_success_after_the_lock_forgets_them(op_store):
    with op_store.transaction() as conn:
        book.add_account(conn, "mei", "marketer", PASSWORD, NOW)
        outcomes = [book.sign_in(conn, "mei", "wrong guess!!", NOW + timedelta(seconds=i)) for i in range(5)]
        assert [o.ok for o in outcomes] == [False] * 5 and outcomes[-1].locked_until == NOW + timedelta(seconds=4,
                                                                                                     minutes=15)
        assert not book.sign_in(conn, "mei", PASSWORD, NOW + timedelta(minutes=10)).ok
        assert book.sign_in(conn, "mei", PASSWORD, NOW + timedelta(minutes=20)).ok
        assert conn.execute(select(accounts.c.failed_sign_ins)).scalar_one() == 0


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer(op_store):
    with op_store.transaction() as conn:
        book.add_account(conn, "mei", "marketer", PASSWORD, NOW)
        unknown = book.sign_in(conn, "nobody", PASSWORD, NOW)
        wrong = book.sign_in(conn, "mei", "not the password", NOW)
    assert (unknown.ok, wrong.ok) == (False, False)


def test_sessions_end_at_sign_out_expiry_idle_time_and_when_the_account_is_disabled(op_store):
    idle, life = timedelta(minutes=30), timedelta(hours=8)
    with op_store.transaction() as conn:
        book.add_account(conn, "mei", "marketer", PASSWORD, NOW)
        ended = book.start_session(conn, "mei", NOW, life)
        assert book.session_user(conn, ended, NOW + timedelta(minutes=5), idle) == "mei"
        assert book.end_session(conn, ended, NOW + timedelta(minutes=6)) == "mei"
        assert book.session_user(conn, ended, NOW + timedelta(minutes=7), idle) is None
        idling = book.start_session(conn, "mei", NOW, life)
        assert book.session_user(conn, idling, NOW + timedelta(minutes=31), idle) is None
        long_one = book.start_session(conn, "mei", NOW, life)
        for minutes in range(20, 8 * 60, 20):
            assert book.session_user(conn, long_one, NOW + timedelta(minutes=minutes), idle) == "mei"
        assert book.session_user(conn, long_one, NOW + life, idle) is None
        live = book.start_session(conn, "mei", NOW, life)
        assert book.disable_account(conn, "mei", NOW + timedelta(minutes=1)) == 1
        assert book.session_user(conn, live, NOW + timedelta(minutes=2), idle) is None
        stored = conn.execute(select(console_sessions.c.sid_sha256)).scalars().all()
    assert live not in stored  # only the hash of a session id is kept


def test_a_disabled_account_has_no_role_even_when_the_roles_file_names_it(op_store):
    from campaigns.governance.access import StaticRoles

    roles = book.AccountRoles(op_store, fallback=StaticRoles({"mei": "admin", "ann": "analyst"}))
    with op_store.transaction() as conn:
        book.add_account(conn, "mei", "marketer", PASSWORD, NOW)
    assert (roles.role_of("mei"), roles.role_of("ann"), roles.role_of("x")) == ("marketer", "analyst", None)
    with op_store.transaction() as conn:
        book.disable_account(conn, "mei", NOW)
    assert roles.role_of("mei") is None
