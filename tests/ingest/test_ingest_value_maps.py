"""Value maps are data: the shipped spellings, a company's own on top, and clear errors for bad entries."""

import pytest

from ingest.contracts import CONTRACTS_BY_NAME
from ingest.value_maps import ValueMapsError, load_value_maps
from tests.ingest.staging_harness import stage_folder

USERS = CONTRACTS_BY_NAME["users"]


def test_the_shipped_maps_cover_the_common_spellings():
    maps = load_value_maps()
    gender = maps.for_column("users", USERS.column("gender"))
    assert {gender["m"], gender["男"], gender["f"], gender["女"]} == {"male", "female"}
    assert maps.for_column("users", USERS.column("is_student"))["是"] == "true"
    assert maps.for_column("users", USERS.column("risk_level"))["平衡型"] == "C3"
    assert maps.for_column("users", USERS.column("province"))["广东省"] == "广东"


def test_a_company_file_extends_the_shipped_maps_and_staging_uses_it(tmp_path):
    extra = tmp_path / "maps.yaml"
    extra.write_text("columns:\n  users.kyc_status:\n    passed: [已开户]\n", encoding="utf-8")
    maps = load_value_maps(extra)
    assert maps.for_column("users", USERS.column("kyc_status"))["已开户"] == "passed"
    assert maps.for_column("users", USERS.column("gender"))["m"] == "male"  # the shipped ones stay
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_text("user_id,signup_at,kyc_status\nu1,2026-01-01,已开户\n", encoding="utf-8")
    plain = stage_folder(landing, tmp_path / "plain", ("users",))
    assert plain.rows("SELECT kyc_status FROM staged.users") == [(None,)]
    assert plain.findings("users", "value") == [("users.csv", 2, 'kyc_status: "已开户" is not one of none, pending, '
                                                                   "passed, failed")]
    extended = stage_folder(landing, tmp_path / "extended", ("users",), value_maps=extra)
    assert extended.rows("SELECT kyc_status FROM staged.users") == [("passed",)]
    assert extended.counts["users"].values_mapped == 1


@pytest.mark.parametrize(("text", "message"), [
    ("columns:\n  users.nosuch:\n    a: [b]\n", r"^maps\.yaml:2: key 'columns\.users\.nosuch': names no column"),
    ("columns:\n  users.gender:\n    robot: [r]\n", r"^maps\.yaml:3: key 'columns\.users\.gender\.robot': is not a value"),
    ("columns:\n  users.gender:\n    male: [xy]\n    female: [xy]\n", r"'xy' already means 'male'"),
    ("booleans:\n  \"true\": [ja]\n  \"false\": [ja]\n", r"'ja' is also a spelling of true"),
    ("columns:\n  users.signup_at:\n    x: [y]\n", r"signup_at is a timestamp column"),
])
def test_a_malformed_entry_names_file_line_and_key(tmp_path, text, message):
    extra = tmp_path / "maps.yaml"
    extra.write_text(text, encoding="utf-8")
    with pytest.raises(ValueMapsError, match=message):
        load_value_maps(extra)
