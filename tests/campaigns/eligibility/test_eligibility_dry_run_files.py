"""The dry run of a folder of campaign files: the tables the dry-run asset writes, and its notes."""

from __future__ import annotations

from datetime import date

import polars as pl

from campaigns import dry_run_campaign_files
from tests.campaigns.conftest import AS_OF, consents_frame, granted, people_frame


def _inputs() -> tuple[pl.DataFrame, pl.DataFrame]:
    segments = pl.DataFrame({"user_id": ["a", "b", "c"], "persona_id": [1, 1, None],
                             "persona_name": ["稳健理财族", "稳健理财族", None],
                             "rfm_segment": ["New customers", "Promising", "New customers"]})
    people = people_frame([(u, date(1980, 1, 1), False, "C3") for u in ("a", "b", "c")])
    return segments, people


def test_every_shipped_campaign_is_decided_and_rendered() -> None:
    segments, people = _inputs()
    tables = dry_run_campaign_files(None, segments, consents_frame([granted("a"), granted("c")]), people, AS_OF,
                                    "https://example.com/u")
    assert tables.notes == []
    assert tables.decisions.schema["reason_codes"] == pl.String
    decided = dict(tables.decisions.select("user_id", "decision").iter_rows())
    assert decided["b"] == "excluded" and set(decided) == {"a", "b", "c"}
    sent = {u for u, d in decided.items() if d == "send"}
    assert set(tables.messages["user_id"].to_list()) == sent
    campaign_id = tables.decisions["campaign_id"].unique().item()
    assert tables.counts[campaign_id] == dict(tables.decisions.group_by("decision").len().iter_rows())
    assert tables.funnel["step"].to_list()[0] == "audience" and set(tables.funnel["campaign_id"]) == {campaign_id}


def test_an_empty_folder_and_no_consents_give_empty_tables_and_notes(tmp_path) -> None:
    segments, people = _inputs()
    tables = dry_run_campaign_files(tmp_path, segments, consents_frame([]), people, AS_OF, "https://example.com/u")
    assert tables.decisions.height == tables.messages.height == tables.funnel.height == 0
    assert "reason_codes" in tables.decisions.columns and "step" in tables.funnel.columns
    assert any("no consent records" in note for note in tables.notes)
    assert any("no campaign files" in note for note in tables.notes)
