"""A small hand-built warehouse holding just what campaign plans and launches read, its campaign store, and a
campaign file.

People u00..u29: adults, not students, risk level C3, in Shanghai. u00..u24 granted marketing and
cross-border e-mail consent with evidence; u25..u29 have no consent, so CN-EM-01 excludes them.
Decisions are taken for 2026-03-01 10:00 Shanghai (outside quiet hours). The campaign store is the default
one: `campaigns.sqlite3` beside the warehouse file.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import yaml

from campaigns import template_path
from campaigns.governance.access import Actor
from campaigns.governance.template_approvals import approve_template, submit_template
from campaigns.store.op_database import OpStore
from warehouse import connect, write_frame

SHANGHAI = ZoneInfo("Asia/Shanghai")
USERS = [f"u{i:02d}" for i in range(30)]
CONSENTING = USERS[:25]
DECIDED_AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
SEND_AT = "2026-03-01T10:00:00+08:00"
MARKETER = Actor("mei", "marketer")
COMPLIANCE = Actor("chen", "compliance")
ROLES = "users:\n  mei: marketer\n  chen: compliance\n  ann: analyst\n"


def email_of(user_id: str) -> str:
    return f"{user_id}@example.test"


def store_url(warehouse: Path) -> str:
    """The default campaign store of a warehouse file (as `Settings.campaign_db_url()` builds it)."""
    return f"sqlite:///{Path(warehouse).parent / 'campaigns.sqlite3'}"


def store_of(warehouse: Path) -> OpStore:
    return OpStore(store_url(warehouse))


def approve_shipped(store: OpStore, template_id: str = "wealth_welcome", version: int = 1) -> None:
    """Submit (as mei) and approve (as chen) a shipped template version."""
    data = yaml.safe_load(template_path(template_id, version).read_text(encoding="utf-8"))
    with store.transaction() as conn:
        submit_template(conn, MARKETER, data)
        approve_template(conn, COMPLIANCE, template_id, version)


def build_warehouse(path: Path, approve: bool = True) -> Path:
    """Write the warehouse at `path`; with `approve`, wealth_welcome@1 is submitted and approved in its store."""
    users = pl.DataFrame({
        "user_id": USERS,
        "signup_at": [datetime(2025, 6, 1, tzinfo=UTC)] * len(USERS),
        "is_student": [False] * len(USERS),
        "risk_level": ["C3"] * len(USERS),
        "risk_assessed_at": [datetime(2026, 1, 5, tzinfo=UTC)] * len(USERS),
        "kyc_status": ["passed"] * len(USERS),
        "country": ["CN"] * len(USERS),
        "timezone": ["Asia/Shanghai"] * len(USERS),
        "language": ["zh"] * len(USERS),
    })
    contacts = pl.DataFrame({
        "user_id": USERS, "email": [email_of(u) for u in USERS], "phone": [f"1380000{i:04d}" for i in range(len(USERS))],
        "birth_date": [date(1985, 5, 1)] * len(USERS),
    })
    segments = pl.DataFrame({
        "user_id": USERS, "persona_id": [1] * len(USERS), "persona_name": ["稳健理财"] * len(USERS),
        "rfm_segment": ["Champions" if i % 2 else "Loyal" for i in range(len(USERS))],
    })
    granted_at = datetime(2025, 7, 1, tzinfo=UTC)
    consents = pl.DataFrame(
        [(u, "email", purpose, "granted", granted_at, "app", f"ev-{purpose}-{u}")
         for u in CONSENTING for purpose in ("marketing", "cross_border")],
        schema={"user_id": pl.String, "channel": pl.String, "purpose": pl.String, "status": pl.String,
                "recorded_at": pl.Datetime("us", "UTC"), "source": pl.String, "evidence_ref": pl.String},
        orient="row",
    )
    window = pl.DataFrame({"as_of": [DECIDED_AT.date()], "window_end": [DECIDED_AT], "currency": ["CNY"],
                           "as_of_basis": ["test"]})
    with connect(path) as conn:
        write_frame(conn, "staged.users", users)
        write_frame(conn, "private.user_contacts", contacts)
        write_frame(conn, "marts.user_segment", segments)
        write_frame(conn, "staged.consents", consents)
        write_frame(conn, "core.analysis_window", window)
    if approve:
        store = store_of(path)
        approve_shipped(store)
        store.dispose()
    return path


def recent_send_at(now: datetime | None = None) -> datetime:
    """The latest 10:00 in Shanghai at or before now: outside quiet hours and well within the schedule grace."""
    now = (now or datetime.now(UTC)).astimezone(SHANGHAI)
    morning = now.replace(hour=10, minute=0, second=0, microsecond=0)
    return (morning if morning <= now else morning - timedelta(days=1)).astimezone(UTC)


def write_campaign(folder: Path, campaign_id: str, holdout_pct: int = 0, send_at: datetime | str = SEND_AT,
                   **fields) -> Path:
    """A campaign file reaching everyone in the warehouse with wealth_welcome@1, sent at `send_at` (SEND_AT)."""
    path = folder / f"{campaign_id}.yaml"
    stamp = send_at if isinstance(send_at, str) else send_at.astimezone(SHANGHAI).isoformat()
    path.write_text(json.dumps({
        "campaign_id": campaign_id, "name": campaign_id, "segment": {"rfm_segment": ["Champions", "Loyal"]},
        "template": {"id": "wealth_welcome", "version": 1}, "channel": "email", "purpose": "marketing",
        "holdout_pct": holdout_pct, "send_at": stamp, **fields}, ensure_ascii=False), encoding="utf-8")
    return path


def copy_store_into(warehouse: Path) -> None:
    """Copy the warehouse's campaign store into `campaigns.<table>` of the warehouse, as the `campaign_ledger`
    asset of a run does."""
    store = store_of(warehouse)
    frames = store.snapshot()
    store.dispose()
    with connect(warehouse) as conn:
        for name, frame in frames.items():
            write_frame(conn, f"campaigns.{name}", frame)
