"""Campaign files: the shipped example loads; every validation error names the file and the key."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
import yaml

from campaigns import CampaignFileError, campaign_paths, load_campaign, select_audience
from segments.rfm import RFM_SEGMENTS

EXAMPLE = campaign_paths()[0]


def test_shipped_example_campaign_loads() -> None:
    campaign = load_campaign(EXAMPLE)
    assert (campaign.template_id, campaign.template_version) == ("wealth_welcome", 1)
    assert campaign.channel == "email" and campaign.purpose == "marketing" and campaign.holdout_pct == 10
    assert dict(campaign.segment)["rfm_segment"]


def _write(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    path = tmp_path / "my_campaign.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"holdout_pct": None}, "holdout_pct"),
        ({"holdout_pct": 150}, "holdout_pct"),
        ({"holdout_pct": "ten"}, "holdout_pct"),
        ({"channel": "pigeon"}, "channel"),
        ({"purpose": "fun"}, "purpose"),
        ({"campaign_id": "Has Spaces"}, "campaign_id"),
        ({"holdout": 10}, "holdout"),
        ({"template": {"id": "wealth_welcome", "version": "v1"}}, "template.version"),
        ({"template": {"id": "wealth_welcome"}}, "template.version"),
        ({"segment": {"city": ["上海"]}}, "segment.city"),
        ({"segment": {}}, "segment"),
        ({"segment": {"rfm_segment": []}}, "segment.rfm_segment"),
    ],
)
def test_validation_errors_name_file_line_and_key(tmp_path: Path, changes: dict, key: str) -> None:
    path = _write(tmp_path, **changes)
    with pytest.raises(CampaignFileError, match=rf"my_campaign\.yaml(:\d+)?: key '{re.escape(key)}'") as error:
        load_campaign(path)
    assert error.value.key == key and error.value.path == str(path)
    _assert_line_names_key(path, error.value)


def _assert_line_names_key(path: Path, error: CampaignFileError) -> None:
    """The reported line holds the offending key (or, for an absent key, its enclosing key)."""
    parts = [part for part in re.split(r"[.\[\]]", error.key) if part and not part.isdigit()]
    if error.line is None:
        assert parts[0] not in yaml.safe_load(path.read_text(encoding="utf-8")), "a present key must have a line"
        return
    assert f"my_campaign.yaml:{error.line}: key" in str(error)
    line = path.read_text(encoding="utf-8").splitlines()[error.line - 1]
    assert any(line.lstrip(" -").startswith(f"{part}:") for part in parts), (line, error.key)


def test_unreadable_and_non_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(CampaignFileError, match="missing.yaml"):
        load_campaign(tmp_path / "missing.yaml")
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(CampaignFileError, match="mapping"):
        load_campaign(listed)


def test_select_audience_filters_segment_columns(tmp_path: Path) -> None:
    campaign = load_campaign(_write(tmp_path, segment={"rfm_segment": ["Champions"], "persona_id": [2]}))
    segments = pl.DataFrame({
        "user_id": ["a", "b", "c", "a"],
        "persona_id": [2, 2, 3, 2],
        "rfm_segment": ["Champions", "At Risk", "Champions", "Champions"],
    })
    assert select_audience(segments, campaign).get_column("user_id").to_list() == ["a"]


def test_shipped_campaigns_name_real_rfm_segments() -> None:
    for path in campaign_paths():
        for column, values in load_campaign(path).segment:
            if column == "rfm_segment":
                assert set(values) <= set(RFM_SEGMENTS), (path.name, set(values) - set(RFM_SEGMENTS))


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"frequency_cap": {"max_messages": 0, "days": 7}}, "frequency_cap"),
        ({"frequency_cap": {"max_messages": 2}}, "frequency_cap.days"),
        ({"frequency_cap": {"max_messages": 2, "days": 7, "per": "day"}}, "frequency_cap.per"),
        ({"provider_country": "usa"}, "provider_country"),
        ({"uses_consumer_report": "yes"}, "uses_consumer_report"),
        ({"send_at": "2026-07-01T10:00:00"}, "send_at"),
    ],
)
def test_new_campaign_fields_are_validated(tmp_path: Path, changes: dict, key: str) -> None:
    path = _write(tmp_path, **changes)
    with pytest.raises(CampaignFileError) as error:
        load_campaign(path)
    assert f"key '{key}'" in str(error.value) and "my_campaign.yaml" in str(error.value)
    _assert_line_names_key(path, error.value)


def test_schedule_cap_and_provider_load(tmp_path: Path) -> None:
    campaign = load_campaign(_write(tmp_path, send_at="2026-07-01T10:00:00+08:00",
                                    frequency_cap={"max_messages": 1, "days": 14}, provider_country="US"))
    assert campaign.send_at is not None and campaign.send_at.utcoffset().total_seconds() == 8 * 3600
    assert campaign.frequency_cap == (1, 14) and campaign.provider_country == "US"
    assert [arm.name for arm in campaign.arms] == ["main"]
