"""Analyst-defined segments: YAML files of named boolean expressions over profile columns.

```yaml
segments:
  - name: high_value_young
    description: 30 岁以下、客单价高的新客和活跃客户
    where: "age < 30 and monetary_avg >= 500 and lifecycle_stage in ['active', 'new']"
```

The ``where`` language is a small subset of Python expression syntax, parsed with
``ast.parse(mode="eval")`` and compiled node by node into a Polars expression; it is never
evaluated as Python. Allowed: column names; numbers, strings, ``True``/``False``; comparisons
(``== != < <= > >=``, chained like ``18 <= age < 30``); ``in`` / ``not in`` with a list or tuple
of literals; ``and``, ``or``, ``not``; null checks ``col == None``, ``col != None``,
``col is None``, ``col is not None``; a boolean column on its own (``holds_credit``); a leading
minus on a number. Dates and timestamps compare with ISO date strings (``signup_at >=
'2026-06-01'`` compares the date). Anything else (calls, attributes, arithmetic, subscripts,
lambdas, ...) is rejected.

A comparison with a null value is false, so a user with an unknown age is in neither
``age < 30`` nor ``not (age < 30)``; test for nulls explicitly when it matters.

Every problem is reported with the file, the line and the segment it belongs to; all problems of
a file are reported at once.
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import polars as pl
from pydantic import PlainValidator, ValidationError

from file_schemas import FileModel, FileSchemaError, KeyLines, read_mapping

DEFAULT_RULES_FILE = Path(__file__).parent / "library" / "rule_segments.yaml"
SEGMENT_KEYS = ("name", "description", "where")
TOP_LEVEL_KEYS = ("segments",)
RULE_SEGMENT_SCHEMA = {"user_id": pl.Utf8, "segment": pl.Utf8}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_OPERATORS = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}


class RuleSegmentError(ValueError):
    """Invalid segment definitions; ``problems`` holds one message per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class ExpressionError(ValueError):
    """A ``where`` expression outside the language."""


def _non_empty_text(key: str):
    def check(value: Any) -> str:
        # Any scalar reads as its text (a description may look like a date); a list or mapping does not.
        if value is None or isinstance(value, dict | list) or not str(value).strip():
            raise ValueError(f"'{key}' must be non-empty text")
        return str(value)

    return check


@dataclass(frozen=True)
class RuleSegment:
    """One validated segment definition.

    Attributes:
        name: segment name (lower-case letters, digits, underscores).
        description: free text for people (may be empty).
        where: the expression as written.
        expr: the compiled Boolean Polars expression (null counts as false).
        source: the YAML file it came from.
        line: 1-based line of the segment in ``source``.
    """

    name: str
    description: str
    where: str
    expr: pl.Expr
    source: Path
    line: int


def compile_where(text: str, columns: Mapping[str, pl.DataType] | Sequence[str] | None = None) -> pl.Expr:
    """Compile one ``where`` expression to a Polars expression.

    Args:
        text: the expression.
        columns: known columns (a schema enables type checks); any name is accepted when None.

    Returns:
        A Boolean expression, false where the condition is null.

    Raises:
        ExpressionError: syntax errors, unknown columns, constructs outside the language.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        raise ExpressionError(f"syntax error{where}: {error.msg}") from None
    schema = dict(columns) if isinstance(columns, Mapping) else None
    names = set(columns) if columns is not None else None
    return _Compiler(names, schema).predicate(tree.body).fill_null(False)


class SegmentDefinition(FileModel):
    """One entry of the `segments` list, as written."""

    name: Annotated[str, PlainValidator(_non_empty_text("name"))]
    description: Annotated[str, PlainValidator(_non_empty_text("description"))] = ""
    where: Annotated[str, PlainValidator(_non_empty_text("where"))]


class RuleSegmentsFile(FileModel):
    """A rule-segments file: a mapping with one key, `segments`, a list of definitions."""

    segments: list[SegmentDefinition]


def load_rule_segments(
    path: str | Path, columns: Mapping[str, pl.DataType] | Sequence[str] | None = None
) -> list[RuleSegment]:
    """Read and validate a YAML file of segment definitions.

    Args:
        path: the YAML file.
        columns: the columns expressions may use (a schema enables type checks); None skips
            the column check.

    Raises:
        RuleSegmentError: every problem found, each as "FILE:LINE: ..." naming the segment.
    """
    path = Path(path)
    try:
        data, lines = read_mapping(path, FileSchemaError)
    except FileSchemaError as error:
        problem = error.problem
        if problem.startswith("must contain a mapping"):
            problem = "expected a mapping with a 'segments' list"
        elif problem.startswith("is not valid YAML"):
            problem = "not valid YAML: " + problem.removeprefix("is not valid YAML (").removesuffix(")")
        raise RuleSegmentError([f"{path}:{error.line or 1}: {problem}"]) from None
    try:
        parsed = RuleSegmentsFile.model_validate(data)
    except ValidationError as error:
        raise RuleSegmentError(_schema_problems(path, data, lines, error)) from None
    problems: list[str] = []
    segments: list[RuleSegment] = []
    seen: dict[str, int] = {}
    for index, definition in enumerate(parsed.segments):
        line = lines.line_of(("segments", index)) or 1
        label = f"segment '{definition.name}'"
        if not _NAME.match(definition.name):
            problems.append(f"{path}:{lines.line_of(('segments', index, 'name'))}: {label}: name must be "
                            "lower-case letters, digits and underscores, starting with a letter")
            continue
        try:
            expr = compile_where(definition.where, columns)
        except ExpressionError as error:
            problems.append(f"{path}:{lines.line_of(('segments', index, 'where'))}: {label} (line {line}): "
                            f"in where {definition.where!r}: {error}")
            continue
        if definition.name in seen:
            problems.append(f"{path}:{line}: {label}: duplicate name (first defined at line {seen[definition.name]})")
            continue
        seen[definition.name] = line
        segments.append(RuleSegment(name=definition.name, description=definition.description,
                                    where=definition.where, expr=expr, source=path, line=line))
    if problems:
        raise RuleSegmentError(problems)
    return segments


def _schema_problems(path: Path, data: dict, lines: KeyLines, error: ValidationError) -> list[str]:
    """Every problem of the file's structure as `FILE:LINE: …`, in file order (a misspelt key first)."""
    found: list[tuple[int, int, str]] = []
    for item in error.errors(include_url=False):
        location = tuple(item["loc"])
        line = lines.line_of(location) or 1
        kind = item["type"]
        if location == ("segments",):
            message = "missing the 'segments' list" if kind == "missing" else "'segments' must be a list"
            found.append((line, 1, message))
            continue
        if len(location) == 1:
            found.append((line, 0, f"unknown top-level key '{location[0]}'{_suggest(str(location[0]), TOP_LEVEL_KEYS)}"))
            continue
        index = location[1]
        entry = data["segments"][index] if isinstance(data.get("segments"), list) else None
        if len(location) == 2:
            found.append((line, 1, "each segment must be a mapping with name, description and where"))
            continue
        name = entry.get("name") if isinstance(entry, dict) else None
        segment_line = lines.line_of(("segments", index)) or 1
        label = f"segment '{name}'" if isinstance(name, str) and name.strip() else f"segment at line {segment_line}"
        key = str(location[2])
        if kind == "extra_forbidden":
            found.append((line, 0, f"{label}: unknown key '{key}'{_suggest(key, SEGMENT_KEYS)}"))
        elif kind == "missing":
            # Reported after the segment's other problems, at the segment's first line.
            found.append((segment_line, 2, f"{label}: missing '{key}'"))
        else:
            found.append((line, 1, f"{label}: '{key}' must be non-empty text"))
    ordered = sorted(found, key=lambda problem: (problem[1] == 2, problem[0], problem[1]))
    return [f"{path}:{line}: {message}" for line, _, message in ordered]


def apply_rule_segments(users: pl.DataFrame, segments: Sequence[RuleSegment]) -> pl.DataFrame:
    """Memberships: one row per user × matching segment, in segment order then input order.

    Args:
        users: one row per user with ``user_id`` and the columns the expressions use.
        segments: validated definitions.

    Returns:
        ``user_id`` (Utf8), ``segment`` (Utf8).
    """
    if not segments:
        return pl.DataFrame(schema=RULE_SEGMENT_SCHEMA)
    flags = users.select("user_id", *[s.expr.alias(s.name) for s in segments])
    return (
        flags.unpivot(index="user_id", variable_name="segment", value_name="member")
        .filter(pl.col("member"))
        .select(pl.col("user_id").cast(pl.Utf8), pl.col("segment").cast(pl.Utf8))
    )


def rule_segment_definitions(segments: Sequence[RuleSegment], memberships: pl.DataFrame) -> pl.DataFrame:
    """One row per definition: name, description, expression, where it is defined, and its member count."""
    sizes = memberships.group_by("segment").len("users")
    return (
        pl.DataFrame(
            [{"segment": s.name, "description": s.description, "where": s.where, "source": f"{s.source.name}:{s.line}"}
             for s in segments],
            schema={"segment": pl.Utf8, "description": pl.Utf8, "where": pl.Utf8, "source": pl.Utf8},
        )
        .join(sizes, on="segment", how="left")
        .with_columns(pl.col("users").fill_null(0).cast(pl.Int64))
    )


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class _Compiler:
    """Turns whitelisted AST nodes into Polars expressions; everything else is an error."""

    def __init__(self, names: set[str] | None, schema: dict[str, pl.DataType] | None) -> None:
        self.names = names
        self.schema = schema

    def predicate(self, node: ast.expr) -> pl.Expr:
        if isinstance(node, ast.BoolOp):
            parts = [self.predicate(v) for v in node.values]
            combined = parts[0]
            for part in parts[1:]:
                combined = combined & part if isinstance(node.op, ast.And) else combined | part
            return combined
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~self.predicate(node.operand)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name):
            column = self.column(node)
            dtype = self.dtype(node.id)
            if dtype is not None and dtype != pl.Boolean:
                raise ExpressionError(f"column '{node.id}' is {dtype}, not true/false: compare it with a value")
            return column
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return pl.lit(node.value)
        raise self.rejected(node)

    def compare(self, node: ast.Compare) -> pl.Expr:
        terms = [node.left, *node.comparators]
        parts = [self.comparison(a, op, b) for a, op, b in zip(terms, node.ops, terms[1:])]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part
        return combined

    def comparison(self, left: ast.expr, op: ast.cmpop, right: ast.expr) -> pl.Expr:
        if isinstance(op, (ast.In, ast.NotIn)):
            column = self.column(left) if isinstance(left, ast.Name) else None
            if column is None:
                raise ExpressionError("'in' needs a column on its left, e.g. city_tier in [1, 2]")
            if not isinstance(right, (ast.List, ast.Tuple)):
                raise ExpressionError("'in' needs a list of values on its right, e.g. ['new', 'active']")
            values = [self.literal(v) for v in right.elts]
            for value in values:
                self.check_type(left.id, value)
            inside = self.operand(left).is_in([self.convert(left.id, v) for v in values])
            return ~inside if isinstance(op, ast.NotIn) else inside
        if _is_none(left) or _is_none(right):
            other = right if _is_none(left) else left
            if not isinstance(other, ast.Name) or not isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)):
                raise ExpressionError("null checks are written column == None or column != None")
            self.column(other)
            return pl.col(other.id).is_null() if isinstance(op, (ast.Eq, ast.Is)) \
                else pl.col(other.id).is_not_null()
        if type(op) not in _OPERATORS:
            raise ExpressionError(f"operator '{_op_text(op)}' is not allowed here")
        for side in (left, right):
            if not isinstance(side, ast.Name):
                self.literal(side)
        if not isinstance(left, ast.Name) and not isinstance(right, ast.Name):
            raise ExpressionError("a comparison needs at least one column")
        a, b = self.comparable(left, right), self.comparable(right, left)
        return getattr(a, _OPERATORS[type(op)])(b)

    def comparable(self, node: ast.expr, other: ast.expr) -> pl.Expr:
        if isinstance(node, ast.Name):
            self.column(node)
            return self.operand(node)
        value = self.literal(node)
        if isinstance(other, ast.Name):
            self.check_type(other.id, value)
            return pl.lit(self.convert(other.id, value))
        return pl.lit(value)

    def operand(self, node: ast.Name) -> pl.Expr:
        dtype = self.dtype(node.id)
        if dtype is not None and dtype.is_temporal() and dtype != pl.Date:
            return pl.col(node.id).dt.date()
        return pl.col(node.id)

    def column(self, node: ast.expr) -> pl.Expr:
        if not isinstance(node, ast.Name):
            raise self.rejected(node)
        if self.names is not None and node.id not in self.names:
            raise ExpressionError(f"unknown column '{node.id}'{_suggest(node.id, self.names)}")
        return pl.col(node.id)

    def literal(self, node: ast.expr):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
            return node.value
        if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
                and isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float))
                and not isinstance(node.operand.value, bool)):
            return -node.operand.value
        if isinstance(node, ast.Name):
            raise ExpressionError(f"expected a value, got column '{node.id}'")
        raise self.rejected(node)

    def dtype(self, name: str) -> pl.DataType | None:
        return None if self.schema is None else self.schema.get(name)

    def check_type(self, name: str, value) -> None:
        dtype = self.dtype(name)
        if dtype is None:
            return
        if dtype.is_temporal():
            if not isinstance(value, str) or _iso_date(value) is None:
                raise ExpressionError(f"column '{name}' is a date: compare it with 'YYYY-MM-DD', got {value!r}")
        elif dtype == pl.Boolean:
            if not isinstance(value, bool):
                raise ExpressionError(f"column '{name}' is true/false, got {value!r}")
        elif dtype.is_numeric():
            if isinstance(value, (str, bool)):
                raise ExpressionError(f"column '{name}' is a number, got {value!r}")
        elif dtype in (pl.Utf8, pl.Categorical) and not isinstance(value, str):
            raise ExpressionError(f"column '{name}' is text, got {value!r}: quote the value")

    def convert(self, name: str, value):
        dtype = self.dtype(name)
        if dtype is not None and dtype.is_temporal():
            return _iso_date(value)
        return value

    @staticmethod
    def rejected(node: ast.AST) -> ExpressionError:
        what = {ast.Call: "function calls", ast.Attribute: "attribute access", ast.BinOp: "arithmetic",
                ast.Subscript: "subscripts", ast.Lambda: "lambdas", ast.Dict: "dicts", ast.Set: "sets",
                ast.IfExp: "conditional expressions", ast.JoinedStr: "f-strings"}.get(type(node))
        return ExpressionError(f"{what or type(node).__name__ + ' expressions'} are not allowed "
                               f"(at column {getattr(node, 'col_offset', 0) + 1})")


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _iso_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _op_text(op: ast.cmpop) -> str:
    return {ast.Is: "is", ast.IsNot: "is not"}.get(type(op), type(op).__name__)
