"""Shared builders for the campaigns tests: templates, campaigns, people and consents made by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest
import yaml

from campaigns.store.op_database import OpStore
from tests.postgres_cluster import fresh_database

from campaigns import (
    Campaign,
    Template,
    load_template,
    parse_campaign,
    parse_template,
    template_path,
)

AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# 10:00 in Shanghai on the as-of day: outside quiet hours.
SEND_AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def template_data(**overrides: Any) -> dict[str, Any]:
    """The shipped wealth template as a mapping, with overrides."""
    data = yaml.safe_load(template_path("wealth_welcome", 1).read_text(encoding="utf-8"))
    data.update(overrides)
    return data


def make_template(**overrides: Any) -> Template:
    return parse_template(template_data(**overrides))


def campaign_for(template: Template, /, **overrides: Any) -> Campaign:
    data: dict[str, Any] = {
        "campaign_id": "test_campaign",
        "name": "test",
        "segment": {"rfm_segment": ["Champions"]},
        "template": {"id": template.template_id, "version": template.version},
        "channel": "email",
        "purpose": "marketing",
        "holdout_pct": 0,
    }
    data.update(overrides)
    # An override of None leaves the key out of the file.
    return parse_campaign({key: value for key, value in data.items() if value is not None})


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def consents_frame(rows: list[tuple[str, str, str, str, datetime, str | None]], cross_border: bool = True) -> pl.DataFrame:
    """Consent records; with `cross_border`, every user named also gets an e-mail cross-border grant (CN-PI-02)."""
    if cross_border:
        users = sorted({row[0] for row in rows})
        rows = [*rows, *((u, "email", "cross_border", "granted", ts("2025-01-01T00:00:00"), f"xb-{u}") for u in users)]
    return pl.DataFrame(
        rows,
        schema={"user_id": pl.String, "channel": pl.String, "purpose": pl.String, "status": pl.String,
                "recorded_at": pl.Datetime("us", "UTC"), "evidence_ref": pl.String},
        orient="row",
    )


def people_frame(rows: list[tuple[str, date | None, bool | None, str | None]], country: str | None = "CN",
                 timezone: str | None = "Asia/Shanghai", reach: str | None = "ok") -> pl.DataFrame:
    """People rows (user_id, birth_date, is_student, risk_level), all residents of `country` in `timezone`, each
    reachable (`reach`) by e-mail, SMS and push."""
    return pl.DataFrame(
        rows,
        schema={"user_id": pl.String, "birth_date": pl.Date, "is_student": pl.Boolean, "risk_level": pl.String},
        orient="row",
    ).with_columns(pl.lit(country, pl.String).alias("country"), pl.lit(timezone, pl.String).alias("timezone"),
                   *(pl.lit(reach, pl.String).alias(f"{channel}_reach") for channel in ("email", "sms", "push")))


def granted(user_id: str, at: str = "2025-01-01T00:00:00") -> tuple[str, str, str, str, datetime, str]:
    return (user_id, "email", "marketing", "granted", ts(at), f"ev-{user_id}")


@pytest.fixture
def wealth_template() -> Template:
    return load_template(template_path("wealth_welcome", 1))


@pytest.fixture
def credit_template() -> Template:
    return make_template(template_id="loan_offer", product_type="loan", risk_grade=None)


@pytest.fixture(params=["sqlite", "postgres"])
def op_store(request, tmp_path) -> OpStore:
    """An empty campaign store: a SQLite file, and a fresh database on the session's real Postgres server."""
    if request.param == "sqlite":
        store = OpStore(f"sqlite:///{tmp_path / 'campaigns.sqlite3'}")
    else:
        store = OpStore(fresh_database(request.getfixturevalue("postgres_server")))
    yield store
    store.dispose()


def store_rows(store: OpStore, sql: str, params: dict | None = None) -> list[tuple]:
    """Rows of a query on the campaign store (tables by their plain names: outbox, audit_log, …)."""
    from sqlalchemy import text

    with store.transaction() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params or {}).all()]


def store_execute(store: OpStore, sql: str, params: dict | None = None) -> None:
    from sqlalchemy import text

    with store.transaction() as conn:
        conn.execute(text(sql), params or {})


class ContactWarehouse:
    """A DuckDB file holding only `private.user_contacts`, and the read-only contact book over it."""

    def __init__(self, path, create_sql: str) -> None:
        import duckdb

        from campaigns.delivery.contact_book import ContactBook
        from warehouse import connect

        self.path = path
        with duckdb.connect(str(path)) as conn:
            conn.execute("CREATE SCHEMA private")
            conn.execute(f"CREATE TABLE private.user_contacts AS {create_sql}")
        self.book = ContactBook(lambda: connect(self.path, read_only=True))

    def execute(self, sql: str) -> None:
        import duckdb

        with duckdb.connect(str(self.path)) as conn:
            conn.execute(sql)
