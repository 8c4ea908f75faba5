"""Every file schema names the file, the line and the dotted key of the first problem, and rejects unknown keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns import (
    CampaignFileError,
    RolesFileError,
    RulePackFileError,
    TemplateFileError,
    campaign_paths,
    library_dir,
    load_campaign,
    load_rule_pack,
    load_template,
    template_path,
)
from campaigns.content.copy_lint import load_lint_pack
from campaigns.definitions.roles_file import load_roles


def _edited(source: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, fragment: str) -> int:
    return next(number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                if fragment in line)


@pytest.mark.parametrize(("old", "new", "key", "problem"), [
    ("  rfm_segment:", "  rfm_segmnt:", "segment.rfm_segmnt",
     "unknown key; allowed keys are ['persona_id', 'rfm_segment', 'rule_segment']"),
    ("holdout_pct: 10", "holdout_pct: 150", "holdout_pct", "must be a percentage in [0, 100), got 150"),
    ("  version: 1", "  version: v1", "template.version", "must be an integer, got 'v1'"),
    ("channel: email", "channel: email\nchanel: sms", "chanel", "unknown key; allowed keys are ['campaign_id'"),
    ('send_at: "2026-07-01T10:00:00+08:00"', 'send_at: "2026-07-01T10:00:00"', "send_at",
     "must carry a UTC offset or zone"),
])
def test_campaign_errors_carry_the_line_of_the_key(tmp_path: Path, old: str, new: str, key: str, problem: str) -> None:
    path = _edited(campaign_paths()[0], tmp_path, old, new)
    with pytest.raises(CampaignFileError) as error:
        load_campaign(path)
    line = _line_of(path, key.split(".")[-1] + ":")
    assert error.value.line == line and error.value.key == key
    assert str(error.value).startswith(f"{path.name}:{line}: key '{key}': {problem}")


def test_a_missing_nested_key_points_at_its_parent(tmp_path: Path) -> None:
    path = _edited(campaign_paths()[0], tmp_path, "  version: 1\n", "")
    with pytest.raises(CampaignFileError, match=r"example_wealth_welcome\.yaml:5: key 'template\.version': is required"):
        load_campaign(path)


def test_a_missing_top_level_key_has_no_line(tmp_path: Path) -> None:
    path = _edited(campaign_paths()[0], tmp_path, "purpose: marketing\n", "")
    with pytest.raises(CampaignFileError) as error:
        load_campaign(path)
    assert error.value.line is None and str(error.value).startswith(f"{path.name}: key 'purpose': is required")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("campaign_id: x\nname: [unclosed\nchannel: email\n", encoding="utf-8")
    with pytest.raises(CampaignFileError, match=r"broken\.yaml:\d+: is not valid YAML"):
        load_campaign(path)


@pytest.mark.parametrize(("old", "new", "key", "problem"), [
    ("product_type: wealth_mgmt", "product_type: wealth_mgmt\nproduct: x", "product", "unknown key"),
    ("risk_grade: R2", "risk_grade: R9", "risk_grade", "must be one of ['R1', 'R2', 'R3', 'R4', 'R5'], got 'R9'"),
    ("is_personalized: true", "is_personalized: sometimes", "is_personalized", "must be true or false"),
])
def test_template_errors_carry_the_line_of_the_key(tmp_path: Path, old: str, new: str, key: str, problem: str) -> None:
    path = _edited(template_path("wealth_welcome", 1), tmp_path, old, new)
    with pytest.raises(TemplateFileError) as error:
        load_template(path)
    line = _line_of(path, f"{key}:")
    assert (error.value.line, error.value.key) == (line, key)
    assert f"{path.name}:{line}: key '{key}': {problem}" in str(error.value)


def test_rule_pack_errors_carry_the_line_of_the_rule_key(tmp_path: Path) -> None:
    path = _edited(library_dir() / "rules" / "cn.yaml", tmp_path, "max_messages: 3", "max_messages: 0")
    with pytest.raises(RulePackFileError) as error:
        load_rule_pack(path)
    assert error.value.line == _line_of(path, "max_messages: 0")
    assert error.value.key.endswith(".params.max_messages") and "must be a positive integer" in str(error.value)
    typo = _edited(library_dir() / "rules" / "cn.yaml", tmp_path, "check: consent", "check: consnet")
    with pytest.raises(RulePackFileError, match=r"cn\.yaml:\d+: key 'rules\[1\]\.check': unknown check 'consnet'") as bad:
        load_rule_pack(typo)
    assert bad.value.line == _line_of(typo, "check: consnet")


def test_lint_pack_errors_carry_the_line_and_name_lint_checks(tmp_path: Path) -> None:
    path = _edited(library_dir() / "lint" / "cn.yaml", tmp_path, "check: deny_terms", "check: deny_words")
    with pytest.raises(RulePackFileError, match=r"unknown lint check 'deny_words'; known: \[") as error:
        load_lint_pack(path)
    assert error.value.line == _line_of(path, "check: deny_words") and error.value.key == "rules[0].check"
    extra = _edited(library_dir() / "lint" / "cn.yaml", tmp_path, "severity: BLOCK", "severity: BLOCK\n    owner: x")
    with pytest.raises(RulePackFileError, match=r"key 'rules\[0\]\.owner': unknown key; allowed keys are \["):
        load_lint_pack(extra)


def test_roles_files_are_strict(tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text("users:\n  mei: marketer\n", encoding="utf-8")
    assert load_roles(path) == {"mei": "marketer"}
    path.write_text("users: {}\n", encoding="utf-8")
    with pytest.raises(RolesFileError, match=r"roles\.yaml:1: key 'users': needs a non-empty mapping"):
        load_roles(path)
    path.write_text("user:\n  mei: marketer\n", encoding="utf-8")
    with pytest.raises(RolesFileError, match=r"roles\.yaml:1: key 'user': unknown key; allowed keys are \['users'\]"):
        load_roles(path)


def test_a_misspelt_key_is_reported_before_the_missing_key_it_causes(tmp_path: Path) -> None:
    path = _edited(campaign_paths()[0], tmp_path, "template:\n  id: wealth_welcome\n  version: 1\n",
                   "variants:\n  - name: A\n    weight: 1\n    tempalte: {id: wealth_welcome, version: 1}\n")
    with pytest.raises(CampaignFileError) as error:
        load_campaign(path)
    assert error.value.key == "variants[0].tempalte" and error.value.line == _line_of(path, "tempalte:")
    assert "unknown key; allowed keys are ['name', 'template', 'weight']" in str(error.value)
