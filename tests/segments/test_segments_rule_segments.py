import polars as pl
import pytest

from segments.rule_segments import (
    DEFAULT_RULES_FILE, ExpressionError, RuleSegmentError, apply_rule_segments, compile_where, load_rule_segments,
)

USERS = pl.DataFrame(
    {
        "user_id": ["a", "b", "c", "d"],
        "age": [25, 45, None, 17],
        "monetary_avg": [800.0, 900.0, 50.0, None],
        "lifecycle_stage": ["active", "new", "active", "churned"],
        "holds_credit": [True, False, None, True],
        "city_tier": [1, 3, 5, 2],
        "signup_at": pl.Series(["2026-01-05", "2026-06-10", "2026-06-01", "2025-12-31"]).str.to_date(),
    }
)


def members(where):
    return USERS.filter(compile_where(where, USERS.schema))["user_id"].to_list()


@pytest.mark.parametrize("where, expected", [
    ("age < 30 and monetary_avg >= 500 and lifecycle_stage in ['active', 'new']", ["a"]),
    ("18 <= age < 30", ["a"]),
    ("not (age < 30)", ["b"]),  # unknown age is in neither side
    ("age == None or monetary_avg is None", ["c", "d"]),
    ("age != None and city_tier not in (1, 2)", ["b"]),
    ("holds_credit", ["a", "d"]),
    ("not holds_credit or lifecycle_stage == 'new'", ["b"]),
    ("monetary_avg > -1.5", ["a", "b", "c"]),
    ("signup_at >= '2026-06-01'", ["b", "c"]),
    ("city_tier >= 3 or age < 18", ["b", "c", "d"]),
])
def test_allowed_expressions_select_the_right_users(where, expected):
    assert members(where) == expected


@pytest.mark.parametrize("where, message", [
    ("__import__('os').system('true')", "function calls are not allowed"),
    ("age.bit_length() > 1", "function calls are not allowed"),
    ("monetary_avg * 2 > 100", "arithmetic are not allowed"),
    ("lifecycle_stage[0] == 'a'", "subscripts are not allowed"),
    ("(lambda: 1) == 1", "lambdas are not allowed"),
    ("age < 30 and", "syntax error"),
    ("agee < 30", "unknown column 'agee'; did you mean 'age'?"),
    ("city_tier in city_tier", "needs a list"),
    ("city_tier in [1, age]", "expected a value, got column 'age'"),
    ("age < '30'", "column 'age' is a number"),
    ("lifecycle_stage == 3", "column 'lifecycle_stage' is text"),
    ("age", "not true/false"),
    ("age > None", "null checks"),
    ("1 < 2", "at least one column"),
    ("signup_at > 'yesterday'", "compare it with 'YYYY-MM-DD'"),
])
def test_rejected_expressions_say_why(where, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace("?", r"\?").replace("[", r"\[")):
        compile_where(where, USERS.schema)


def test_nothing_is_evaluated_as_python(monkeypatch):
    def forbidden(*_args, **_kwargs):
        raise AssertionError("eval called")

    monkeypatch.setattr("builtins.eval", forbidden)
    assert members("age < 30 and holds_credit") == ["a", "d"]


def write(tmp_path, text):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
segments:
  - name: young_big
    description: 年轻高客单
    where: "age < 30 and monetary_avg >= 500"
  - name: tier_one
    where: city_tier == 1
"""


def test_a_valid_file_loads_and_materializes_memberships(tmp_path):
    rules = load_rule_segments(write(tmp_path, GOOD), USERS.schema)
    assert [(r.name, r.line, r.description) for r in rules] == [("young_big", 2, "年轻高客单"), ("tier_one", 5, "")]
    memberships = apply_rule_segments(USERS, rules)
    assert memberships.schema == pl.Schema({"user_id": pl.Utf8, "segment": pl.Utf8})
    assert memberships.rows() == [("a", "young_big"), ("a", "tier_one")]


def problems_of(tmp_path, text, columns=USERS.schema):
    with pytest.raises(RuleSegmentError) as error:
        load_rule_segments(write(tmp_path, text), columns)
    return error.value.problems


def test_unknown_column_names_file_line_segment_and_suggestion(tmp_path):
    text = GOOD + "  - name: typo\n    where: \"citytier >= 3\"\n"
    [problem] = problems_of(tmp_path, text)
    assert problem.startswith(f"{tmp_path / 'rules.yaml'}:8: segment 'typo' (line 7)")
    assert "unknown column 'citytier'; did you mean 'city_tier'?" in problem


def test_misspelt_key_is_reported_with_its_line(tmp_path):
    text = "segments:\n  - name: a\n    wehre: age < 30\n"
    problems = problems_of(tmp_path, text)
    assert problems[0].endswith(":3: segment 'a': unknown key 'wehre'; did you mean 'where'?")
    assert problems[1].endswith(":2: segment 'a': missing 'where'")


def test_syntax_error_and_every_problem_of_the_file_are_reported(tmp_path):
    text = "segments:\n  - name: a\n    where: age <\n  - name: b\n    where: open('x') == 1\n"
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2
    assert ":3: segment 'a' (line 2)" in problems[0] and "syntax error" in problems[0]
    assert ":5: segment 'b' (line 4)" in problems[1] and "function calls are not allowed" in problems[1]


@pytest.mark.parametrize("text, fragment", [
    ("segment:\n  - name: a\n    where: age < 3\n", ":1: unknown top-level key 'segment'; did you mean 'segments'?"),
    ("segments:\n  - name: a\n    where: age < 3\n  - name: a\n    where: age > 3\n",
     ":4: segment 'a': duplicate name (first defined at line 2)"),
    ("segments:\n  - name: Big One\n    where: age < 3\n", ":2: segment 'Big One': name must be lower-case"),
    ("segments: [a, b]\n", ":1: each segment must be a mapping"),
    ("segments:\n  - name: a\n    where: [age]\n", ":3: segment 'a': 'where' must be non-empty text"),
    ("segments:\n  - name: a\n   where: age < 3\n", ":3: not valid YAML"),
])
def test_structural_problems_name_the_line(tmp_path, text, fragment):
    assert any(fragment in p for p in problems_of(tmp_path, text)), problems_of(tmp_path, text)


def test_shipped_segments_are_valid_against_the_profile_columns():
    columns = {
        "age": pl.Int64, "monetary_avg": pl.Float64, "lifecycle_stage": pl.Utf8, "holds_credit": pl.Boolean,
        "holds_wealth": pl.Boolean, "risk_level": pl.Utf8, "kyc_status": pl.Utf8, "txn_count": pl.Int64,
        "is_student": pl.Boolean, "rfm_segment": pl.Utf8, "city_tier": pl.Int64, "payment_txn_count": pl.Int64,
        "credit_txn_count": pl.Int64, "wealth_txn_count": pl.Int64,
    }
    rules = load_rule_segments(DEFAULT_RULES_FILE, columns)
    assert len(rules) >= 5
    assert all(r.description for r in rules)
