"""Console accounts and sign-in sessions, kept in the operational store.

An account has a name, one of the roles of `roles_file.ROLES`, an Argon2id password hash and a disabled flag.
A disabled account has no role at all (`AccountRoles.role_of` answers None), so every service call by it is
refused, and its open sessions end at once.

Sign-in is throttled per account: after `MAX_FAILED_SIGN_INS` consecutive failures the account is locked for
`LOCKOUT`; a success forgets earlier failures. An unknown name costs the same hash verification as a known one
and gets the same answer, so the answer does not tell which names exist.

A session is a random id given to the browser (signed) and stored here only as its SHA-256, with an absolute
expiry and an idle limit; signing out ends it on the server, so a copied cookie stops working too.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select, update

from campaigns.campaign_errors import AccountError
from campaigns.definitions.roles_file import ROLES
from campaigns.governance.access import RoleDirectory
from campaigns.store.op_database import OpStore
from campaigns.store.op_tables import accounts, console_sessions

MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
_NAME_CHARACTERS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")

# argon2-cffi's defaults (Argon2id, 64 MiB, t=3, p=4) are above OWASP's minimum (19 MiB, t=2, p=1).
_HASHER = PasswordHasher()
# Verified when the name is unknown, so both answers take as long.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Account:
    """An account as listed (never its hash)."""

    user_name: str
    role: str
    disabled: bool
    locked_until: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class SignInOutcome:
    """`ok` signed in; `refused` wrong name or password, disabled, or locked (one answer for all)."""

    ok: bool
    user_name: str
    # Why, for the audit trail only (never shown: it would tell which names exist).
    detail: str
    locked_until: datetime | None = None


def check_user_name(name: str) -> str:
    """A valid account name (lower-case letters, digits, `.`, `_`, `-`; 2 to 60 characters)."""
    name = (name or "").strip()
    if not 2 <= len(name) <= 60 or set(name) - _NAME_CHARACTERS:
        raise AccountError(f"account name {name!r} must be 2 to 60 characters of a-z, 0-9, '.', '_' or '-'")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(sorted(ROLES))}")
    return role


def check_password(password: str) -> str:
    """NIST SP 800-63B: long enough, any characters, no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    return password


def add_account(conn: Connection, name: str, role: str, password: str, now: datetime) -> Account:
    name, role = check_user_name(name), check_role(role)
    if conn.execute(select(accounts.c.user_name).where(accounts.c.user_name == name)).first():
        raise AccountError(f"account {name!r} exists already")
    conn.execute(accounts.insert().values(user_name=name, role=role, password_hash=_HASHER.hash(check_password(password)),
                                          disabled=False, failed_sign_ins=0, created_at=now, updated_at=now))
    return Account(name, role, False, None, now)


def disable_account(conn: Connection, name: str, now: datetime) -> int:
    """Disable an account and end its sessions; returns how many sessions were ended."""
    found = conn.execute(update(accounts).where(accounts.c.user_name == name)
                         .values(disabled=True, updated_at=now)).rowcount
    if not found:
        raise AccountError(f"no account named {name!r}")
    return conn.execute(update(console_sessions).where(console_sessions.c.user_name == name,
                                                       console_sessions.c.ended_at.is_(None))
                        .values(ended_at=now)).rowcount


def list_accounts(conn: Connection) -> list[Account]:
    rows = conn.execute(select(accounts).order_by(accounts.c.user_name)).all()
    return [Account(r.user_name, r.role, bool(r.disabled), r.locked_until, r.created_at) for r in rows]


def account_count(conn: Connection) -> int:
    return len(conn.execute(select(accounts.c.user_name)).all())


def sign_in(conn: Connection, name: str, password: str, now: datetime) -> SignInOutcome:
    """Check a name and password, counting failures per account and locking it after too many."""
    row = conn.execute(select(accounts).where(accounts.c.user_name == (name or "").strip())).first()
    if row is None:
        _verify(_DUMMY_HASH, password)
        return SignInOutcome(False, name, "unknown account")
    if row.locked_until is not None and row.locked_until > now:
        _verify(_DUMMY_HASH, password)
        return SignInOutcome(False, row.user_name, "account locked", row.locked_until)
    if not _verify(row.password_hash, password):
        failures = int(row.failed_sign_ins or 0) + 1
        locked = now + LOCKOUT if failures >= MAX_FAILED_SIGN_INS else None
        conn.execute(update(accounts).where(accounts.c.user_name == row.user_name)
                     .values(failed_sign_ins=0 if locked else failures, locked_until=locked, updated_at=now))
        return SignInOutcome(False, row.user_name, f"wrong password (failure {failures})" if not locked
                             else f"wrong password; locked after {failures} failures", locked)
    if row.disabled:
        return SignInOutcome(False, row.user_name, "account disabled")
    changes = {"failed_sign_ins": 0, "locked_until": None, "updated_at": now}
    if _HASHER.check_needs_rehash(row.password_hash):
        changes["password_hash"] = _HASHER.hash(password)
    conn.execute(update(accounts).where(accounts.c.user_name == row.user_name).values(**changes))
    return SignInOutcome(True, row.user_name, "signed in")


def start_session(conn: Connection, name: str, now: datetime, lifetime: timedelta) -> str:
    """A new random session id for `name` (returned once; only its hash is stored)."""
    sid = secrets.token_urlsafe(32)
    conn.execute(console_sessions.insert().values(sid_sha256=_sid_hash(sid), user_name=name, started_at=now,
                                                  seen_at=now, expires_at=now + lifetime))
    return sid


def session_user(conn: Connection, sid: str, now: datetime, idle: timedelta) -> str | None:
    """The account of a live session (touching its idle clock), or None when it ended, expired or idled out."""
    row = conn.execute(select(console_sessions).where(console_sessions.c.sid_sha256 == _sid_hash(sid))).first()
    if row is None or row.ended_at is not None:
        return None
    if row.expires_at <= now or row.seen_at + idle <= now:
        conn.execute(update(console_sessions).where(console_sessions.c.sid_sha256 == row.sid_sha256)
                     .values(ended_at=now))
        return None
    conn.execute(update(console_sessions).where(console_sessions.c.sid_sha256 == row.sid_sha256).values(seen_at=now))
    return row.user_name


def end_session(conn: Connection, sid: str, now: datetime) -> str | None:
    """End a session; the account it belonged to (None when it was not live)."""
    row = conn.execute(select(console_sessions).where(console_sessions.c.sid_sha256 == _sid_hash(sid),
                                                      console_sessions.c.ended_at.is_(None))).first()
    if row is None:
        return None
    conn.execute(update(console_sessions).where(console_sessions.c.sid_sha256 == row.sid_sha256).values(ended_at=now))
    return row.user_name


class AccountRoles:
    """The accounts of a store as a role directory: an enabled account's role; None for a disabled or unknown one.

    With a `fallback` directory (the roles file of the command line), a name without an account is looked up
    there; a disabled account never falls back.
    """

    def __init__(self, store: OpStore, fallback: RoleDirectory | None = None) -> None:
        self._store = store
        self._fallback = fallback

    def role_of(self, user: str) -> str | None:
        with self._store.transaction() as conn:
            row = conn.execute(select(accounts.c.role, accounts.c.disabled).where(accounts.c.user_name == user)).first()
        if row is None:
            return self._fallback.role_of(user) if self._fallback is not None else None
        return None if row.disabled else row.role


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()
