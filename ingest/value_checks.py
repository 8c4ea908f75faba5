"""The SQL that types one landing value and says what is wrong with it.

Every column of the contract is typed from its text (or, for a typed Parquet column, checked in its own
type). A column is **strict** when a bad value rejects the whole row: its keys, required columns, money,
and the few columns money depends on (a transaction's status). Any other bad value is a **finding**:
the value is stored as null and the reason kept (`quarantine.value_findings`). Spellings of a value are
mapped first (`ingest.value_maps`). A contact detail is never shown in a reason.

Dates and timestamps must be ISO 8601 (`2026-03-01`, `2026-03-01T09:30:00+08:00`, `2026-03-01 09:30`);
a named value (`epoch`, `infinity`), another layout (`2026/03/01`) or a UTC offset beyond ±14:00 is
rejected, and so is an instant later than the run's horizon (the time of the run plus a day: data cannot
come from the future, and one such row would otherwise move the analysis date years ahead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ingest.contracts import Column, SourceContract

MONEY_PATTERN = r"^-?[0-9]+(\.[0-9]{1,2}0*)?$"
INTEGER_PATTERN = r"^-?[0-9]+$"
OFFSET_PATTERN = r"[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?$"
CONTACT_SHOWN = "***"
MIN_YEAR = 1900
# Optional columns that money or credit figures depend on reject the row like money does: a transaction
# whose status cannot be read must not turn into one that counts as a purchase, and a loan snapshot
# whose days past due cannot be read must not count as current in the credit-loss estimates.
STRICT_COLUMNS = {("transactions", "status"), ("loan_performance", "days_past_due")}


@dataclass(frozen=True)
class Typing:
    """What typing one column produces: its typed value and the reason it is bad (NULL when it is fine)."""

    value: str
    reason: str
    strict: bool
    # The text the value maps from when a spelling was mapped (NULL otherwise), for the mapping counts.
    mapped_from: str | None = None


def is_strict(contract: SourceContract, column: Column) -> bool:
    return (column.required or column.name in contract.key or column.type == "money"
            or column.name in contract.one_of_required or column.name == contract.event_time_column
            or (contract.name, column.name) in STRICT_COLUMNS)


def column_typing(contract: SourceContract, column: Column, raw: str, native: bool, spellings: dict[str, str],
                  horizon: datetime | None) -> Typing:
    """Typing of `column` from the SQL `raw` (its cleaned text, or its native value)."""
    shown = (f"'{column.name}: {CONTACT_SHOWN}'" if column.contact else
             f"'{column.name}: \"' || CAST({raw} AS VARCHAR) || '\"'")
    mapped_from = None
    if spellings and not native:
        cases = " ".join(f"WHEN {_sql_str(spelling)} THEN {_sql_str(value)}" for spelling, value in sorted(spellings.items()))
        mapped = f"CASE lower({raw}) {cases} ELSE {raw} END"
        mapped_from = f"CASE WHEN {mapped} IS DISTINCT FROM {raw} THEN {raw} END"
        raw = f"({mapped})"
    value, reason = (_native_value(column, raw, shown, horizon) if native
                     else _text_value(column, raw, shown, horizon))
    strict = is_strict(contract, column)
    if not strict:
        # A finding leaves the row in, with the value null.
        value = f"CASE WHEN ({reason}) IS NULL THEN {value} END"
    return Typing(value, reason, strict, mapped_from)


def _text_value(column: Column, raw: str, shown: str, horizon: datetime | None) -> tuple[str, str]:
    name = column.name
    if column.type == "timestamp":
        cast = f"TRY_CAST({raw} AS TIMESTAMPTZ)"
        # ISO 8601 layout (a digit first and `YYYY-`), and a real UTC offset when there is one.
        layout = (f"(left({raw}, 1) BETWEEN '0' AND '9' AND substr({raw}, 5, 1) = '-' AND "
                  f"(length({raw}) <= 19 OR NOT regexp_matches(substr({raw}, 17), '[+-]') OR "
                  f"regexp_matches({raw}, '{OFFSET_PATTERN}')))")
        value = f"CASE WHEN {layout} THEN {cast} END"
        reason = (f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' is not an ISO 8601 timestamp' "
                  f"{_range_reasons('timestamp', value, shown, horizon)} END")
    elif column.type == "date":
        cast = f"TRY_CAST({raw} AS DATE)"
        value = f"CASE WHEN length({raw}) = 10 AND substr({raw}, 5, 1) = '-' AND left({raw}, 1) BETWEEN '0' AND '9' THEN {cast} END"
        reason = (f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' is not an ISO 8601 date' "
                  f"{_range_reasons('date', value, shown, horizon)} END")
    elif column.type == "money":
        ok = f"regexp_full_match({raw}, '{MONEY_PATTERN}')"
        value = f"CASE WHEN {ok} THEN TRY_CAST({raw} AS DECIMAL(18, 2)) END"
        reason = (f"CASE WHEN {raw} IS NOT NULL AND NOT {ok} THEN {shown} || ' is not an amount with at most two decimals' "
                  f"WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' does not fit DECIMAL(18, 2)' END")
    elif column.type == "int":
        ok = f"regexp_full_match({raw}, '{INTEGER_PATTERN}')"
        value = f"CASE WHEN {ok} THEN TRY_CAST({raw} AS BIGINT) END"
        reason = f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' is not an integer' END"
    elif column.type == "float":
        value = f"CASE WHEN isfinite(TRY_CAST({raw} AS DOUBLE)) THEN TRY_CAST({raw} AS DOUBLE) END"
        reason = f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' is not a number' END"
    elif column.type == "bool":
        value = f"CASE lower({raw}) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END"
        reason = f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' is not true or false' END"
    elif column.type == "json":
        value = f"CASE WHEN json_valid({raw}) THEN {raw} END"
        reason = f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN '{name}: not valid JSON' END"
    elif column.allowed:
        cases = " ".join(f"WHEN {_sql_str(a.lower())} THEN {_sql_str(a)}" for a in column.allowed)
        value = f"CASE lower({raw}) {cases} END"
        listed = ", ".join(column.allowed)
        reason = f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' is not one of {listed}' END"
    else:
        value = raw
        reason = "NULL"
    checks = [reason, *_constraint_checks(column, raw, value, shown)]
    return value, f"coalesce({', '.join(checks)})" if len(checks) > 1 else checks[0]


def _range_reasons(kind: str, value: str, shown: str, horizon: datetime | None) -> str:
    """WHEN branches rejecting a date or timestamp before 1900 or after the horizon (the run's time plus a day)."""
    low = f"TIMESTAMPTZ '{MIN_YEAR}-01-01'" if kind == "timestamp" else f"DATE '{MIN_YEAR}-01-01'"
    branches = f"WHEN {value} < {low} THEN {shown} || ' is before {MIN_YEAR}' "
    if horizon is not None:
        stamp = horizon.isoformat(timespec="seconds")
        high = f"TIMESTAMPTZ '{stamp}'" if kind == "timestamp" else f"CAST(TIMESTAMPTZ '{stamp}' AS DATE)"
        branches += f"WHEN {value} > {high} THEN {shown} || ' is in the future (after {stamp[:16].replace('T', ' ')})' "
    return branches


def _constraint_checks(column: Column, raw: str, value: str, shown: str) -> list[str]:
    """Reasons for a missing required value and a value outside the contract's minimum or maximum."""
    checks = []
    if column.required:
        checks.append(f"CASE WHEN {raw} IS NULL THEN '{column.name}: required value is missing' END")
    if column.min_value is not None:
        checks.append(f"CASE WHEN {value} < {column.min_value} THEN {shown} || ' is below the minimum {column.min_value:g}' END")
    if column.max_value is not None:
        checks.append(f"CASE WHEN {value} > {column.max_value} THEN {shown} || ' is above the maximum {column.max_value:g}' END")
    return checks


def _native_value(column: Column, raw: str, shown: str, horizon: datetime | None) -> tuple[str, str]:
    """A value already typed in the landing file: its range is checked; a decimal must be exact to the cent."""
    target = {"timestamp": "TIMESTAMPTZ", "date": "DATE", "money": "DECIMAL(18, 2)", "int": "BIGINT",
              "float": "DOUBLE", "bool": "BOOLEAN"}[column.type]
    value = f"TRY_CAST({raw} AS {target})"
    checks = [f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' does not fit {target}' END"]
    if column.type == "money":
        # A finer decimal (e.g. DECIMAL(12,3)) is fine when its value is exact to the cent.
        checks.insert(0, f"CASE WHEN {raw} IS NOT NULL AND {raw} <> round({raw}, 2) THEN {shown} || "
                         "' is not an amount with at most two decimals' END")
    if column.type in ("timestamp", "date"):
        checks.append(f"CASE {_range_reasons(column.type, value, shown, horizon)} END")
    if column.type == "float":
        checks.append(f"CASE WHEN NOT isfinite({value}) THEN {shown} || ' is not a number' END")
    checks += _constraint_checks(column, raw, value, shown)
    return value, f"coalesce({', '.join(checks)})"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
