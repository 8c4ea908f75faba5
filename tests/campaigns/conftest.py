"""Shared builders for the campaigns tests: templates, campaigns, people and consents made by hand."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import polars as pl
import pytest
import yaml

from campaigns import Campaign, Template, load_template, parse_campaign, parse_template, template_path

AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def template_data(**overrides: Any) -> dict[str, Any]:
    """The shipped wealth template as a mapping, with overrides."""
    data = yaml.safe_load(template_path("wealth_welcome", 1).read_text(encoding="utf-8"))
    data.update(overrides)
    return data


def make_template(**overrides: Any) -> Template:
    return parse_template(template_data(**overrides))


def campaign_for(template: Template, **overrides: Any) -> Campaign:
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
    return parse_campaign(data)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def consents_frame(rows: list[tuple[str, str, str, str, datetime, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"user_id": pl.String, "channel": pl.String, "purpose": pl.String, "status": pl.String,
                "recorded_at": pl.Datetime("us", "UTC"), "evidence_ref": pl.String},
        orient="row",
    )


def people_frame(rows: list[tuple[str, date | None, bool | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"user_id": pl.String, "birth_date": pl.Date, "is_student": pl.Boolean, "risk_level": pl.String},
        orient="row",
    )


def granted(user_id: str, at: str = "2025-01-01T00:00:00") -> tuple[str, str, str, str, datetime, str]:
    return (user_id, "email", "marketing", "granted", ts(at), f"ev-{user_id}")


@pytest.fixture
def wealth_template() -> Template:
    return load_template(template_path("wealth_welcome", 1))


@pytest.fixture
def credit_template() -> Template:
    return make_template(template_id="loan_offer", product_type="loan", risk_grade=None)
