"""Value normalisation as data: the spellings real exports use, mapped to the value the contract stores.

The shipped map (`ingest/library/value_maps.yaml`) covers genders (`M`, `F`, `男`, `女`), true/false words
(`yes`, `1`, `是`, `否`), KYC states, risk levels, city tiers, provinces with or without 省/市, product
lines, transaction statuses, platforms, consent channels, purposes and statuses. A company adds its own
spellings in a file of the same format (FINGROWTH_VALUE_MAPS); its entries extend the shipped ones.
Matching ignores case and surrounding spaces. Staging counts, per column, how many values it mapped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from file_schemas import FileModel, FileSchemaError, read_mapping, validate_file
from ingest.contracts import CONTRACTS_BY_NAME, Column

SHIPPED = Path(__file__).parent / "library" / "value_maps.yaml"


class ValueMapsError(FileSchemaError):
    """A value-maps file is malformed."""


def _spelling(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        raise ValueError(f"a spelling must be text, got {value!r}")
    # YAML reads `yes`, `1` and `true` as a bool or a number; the spelling is its text as written.
    text = {True: "true", False: "false"}.get(value, str(value)) if isinstance(value, bool) else str(value)
    return text.strip().lower()


class ValueMapsFile(FileModel):
    """`booleans: {true: [...], false: [...]}` and `columns: {<source>.<column>: {<value>: [spellings]}}`."""

    booleans: dict[str, list[Any]] = Field(default_factory=dict)
    columns: dict[str, dict[str, list[Any]]] = Field(default_factory=dict)

    @field_validator("booleans")
    @classmethod
    def _true_and_false(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        unknown = sorted(set(value) - {"true", "false"})
        if unknown:
            raise ValueError(f"booleans holds only `true` and `false`, not {unknown[0]!r}")
        return value


@dataclass(frozen=True)
class ValueMaps:
    """Spelling (lower case, trimmed) → contract value, per `<source>.<column>`, and the true/false words."""

    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    booleans: dict[str, bool] = field(default_factory=dict)

    def for_column(self, source: str, column: Column) -> dict[str, str]:
        """The spellings of one column, as text the column's type then reads (`true`/`false` for booleans)."""
        if column.type == "bool":
            return {spelling: "true" if value else "false" for spelling, value in self.booleans.items()}
        return self.columns.get(f"{source}.{column.name}", {})


def load_value_maps(extra: Path | None = None) -> ValueMaps:
    """The shipped maps, extended by `extra` when given.

    Raises:
        ValueMapsError: naming the file, line and key of a malformed entry (an unknown column, a value the
            column does not allow, a spelling given two values).
    """
    maps = ValueMaps()
    for path in [SHIPPED, *([extra] if extra else [])]:
        data, lines = read_mapping(path, ValueMapsError, allow_empty=True)
        parsed = validate_file(ValueMapsFile, data, path, ValueMapsError, lines)
        maps = _merged(maps, parsed, path, lines)
    return maps


def _merged(maps: ValueMaps, parsed: ValueMapsFile, path: Path, lines) -> ValueMaps:
    booleans = dict(maps.booleans)
    for word, spellings in parsed.booleans.items():
        for spelling in spellings:
            key = _checked(path, lines, ("booleans", word), spelling)
            if booleans.get(key, word == "true") != (word == "true"):
                raise ValueMapsError(path, f"booleans.{word}", f"{spelling!r} is also a spelling of "
                                     f"{'false' if word == 'true' else 'true'}", lines.line_of(("booleans", word)))
            booleans[key] = word == "true"
    columns = {name: dict(spellings) for name, spellings in maps.columns.items()}
    for name, values in parsed.columns.items():
        source, _, column_name = name.partition(".")
        contract = CONTRACTS_BY_NAME.get(source)
        if contract is None or column_name not in contract.column_names:
            raise ValueMapsError(path, f"columns.{name}", "names no column of the input contract (write "
                                 "`<source>.<column>`, e.g. `users.gender`)", lines.line_of(("columns", name)))
        column = contract.column(column_name)
        target = columns.setdefault(name, {})
        for value, spellings in values.items():
            problem = _value_problem(column, str(value))
            if problem:
                raise ValueMapsError(path, f"columns.{name}.{value}", problem, lines.line_of(("columns", name, value)))
            for spelling in spellings:
                key = _checked(path, lines, ("columns", name, value), spelling)
                if target.get(key, str(value)) != str(value):
                    raise ValueMapsError(path, f"columns.{name}.{value}", f"{spelling!r} already means "
                                         f"{target[key]!r}", lines.line_of(("columns", name, value)))
                target[key] = str(value)
    return ValueMaps(columns, booleans)


def _checked(path: Path, lines, location: tuple, spelling: Any) -> str:
    try:
        return _spelling(spelling)
    except ValueError as error:
        raise ValueMapsError(path, ".".join(map(str, location)), str(error), lines.line_of(location)) from None


def _value_problem(column: Column, value: str) -> str | None:
    """Why `value` cannot be what a spelling of `column` maps to, or None."""
    if column.allowed is not None and value not in column.allowed:
        return f"is not a value of {column.name} ({', '.join(column.allowed)})"
    if column.type == "int":
        if not value.lstrip("-").isdigit():
            return f"{column.name} holds integers, got {value!r}"
        number = int(value)
        if (column.min_value is not None and number < column.min_value) or (
                column.max_value is not None and number > column.max_value):
            return f"is outside the range of {column.name}"
    if column.type not in ("str", "int"):
        return f"{column.name} is a {column.type} column; only text and integer columns take spellings"
    return None
