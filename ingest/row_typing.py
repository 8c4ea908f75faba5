"""The SQL that types and judges every landing row of one source in one pass.

`RowTyping.select` turns a landing relation (`ingest.landing`) into one row per landing line with

- the typed value of every contract column (`ingest.value_checks`: spellings mapped, a bad optional
  value stored as null), extras as they are,
- `__fg_reasons`: why the row is rejected (its own strict problems), `__fg_prior` (its key was staged on
  another day), `__fg_refs` (an unknown strict reference, or a transaction before its user's sign-up);
  NULL when there is none,
- `__fg_findings`: the values stored as null, separated by `FINDING_SEPARATOR`,
- `__fg_mapped_<i>`: the text a mapped value was spelled as,
- `__fg_h`: a 64-bit hash of the typed key (duplicates are found from it), `__fg_blank` (a blank JSON
  line, never a row), `__fg_new_keys` (JSON keys the relation did not read),
- `__fg_record`: the row as it was written, contact details masked, for a rejected row.
"""

from __future__ import annotations

from collections.abc import Callable

from ingest.contracts import SourceContract
from ingest.landing import BLANK_LINE, ERROR_COLUMN, FILE_ID_COLUMN, NEW_KEYS_COLUMN
from ingest.value_checks import CONTACT_SHOWN, Typing, column_typing, is_strict
from ingest.value_maps import ValueMaps

# A judged row (`RowTyping.judged`) with a problem: its own, a key staged on another day, or an unknown reference.
FLAGGED = "NOT __fg_blank AND (__fg_reasons IS NOT NULL OR __fg_prior IS NOT NULL OR __fg_refs IS NOT NULL)"
# A row to stage, unless its key repeats.
UNFLAGGED = "NOT __fg_blank AND __fg_reasons IS NULL AND __fg_prior IS NULL AND __fg_refs IS NULL"
FINDING_SEPARATOR = "chr(30)"


class RowTyping:
    """The typing SQL of one source: values, reasons, findings, mapped spellings, references and keys."""

    def __init__(self, contract: SourceContract, native: frozenset[str], maps: ValueMaps, horizon) -> None:
        self.contract, self.native, self.horizon, self.maps = contract, native, horizon, maps
        self.raw = {c.name: f"__fg_raw_{i}" for i, c in enumerate(contract.columns)}
        self.typing: dict[str, Typing] = {
            c.name: column_typing(contract, c, self.raw[c.name], c.name in native, maps.for_column(contract.name, c),
                                  horizon)
            for c in contract.columns}
        self.mapped = [c.name for c in contract.columns if self.typing[c.name].mapped_from is not None]

    def mapped_column(self, name: str) -> str:
        return f"__fg_mapped_{self.raw[name].rsplit('_', 1)[1]}"

    def _raw_value(self, name: str) -> str:
        column = f"r.{quote(name)}"
        return column if name in self.native else cleaned(column)

    def key_hash(self) -> str:
        """A 64-bit hash of a row's typed key, straight from the landing row `r` (no other column typed)."""
        def typed(name: str) -> str:
            column = self.contract.column(name)
            return column_typing(self.contract, column, self._raw_value(name), name in self.native,
                                 self.maps.for_column(self.contract.name, column), self.horizon).value
        return key_hash(self.contract, typed)

    def select(self, landing_sql: str, extras: list[str]) -> str:
        """Every landing row typed and judged on its own, in one pass (columns: see the module doc).

        Nothing in it joins: DuckDB then reads and types in parallel and still writes the rows in the
        scan's order, so a row's place in the table it is written to is its place in its file.
        """
        contract = self.contract
        texts = [f"r.{FILE_ID_COLUMN}", f"NULLIF(r.{ERROR_COLUMN}, {sql_str(BLANK_LINE)}) AS {ERROR_COLUMN}",
                 f"r.{ERROR_COLUMN} IS NOT DISTINCT FROM {sql_str(BLANK_LINE)} AS __fg_blank",
                 f"CASE WHEN len(r.{NEW_KEYS_COLUMN}) > 0 THEN r.{NEW_KEYS_COLUMN} END AS {NEW_KEYS_COLUMN}"]
        texts += [f"{self._raw_value(c.name)} AS {self.raw[c.name]}" for c in contract.columns]
        texts += [f"r.{quote(e)} AS {quote(e)}" for e in extras]
        parts = [FILE_ID_COLUMN, "__fg_blank", NEW_KEYS_COLUMN]
        strict_reasons, findings = [ERROR_COLUMN], []  # the read error first
        for column in contract.columns:
            typing = self.typing[column.name]
            parts.append(f"{typing.value} AS {quote(column.name)}")
            (strict_reasons if typing.strict else findings).append(typing.reason)
            if typing.mapped_from is not None:
                parts.append(f"{typing.mapped_from} AS {self.mapped_column(column.name)}")
        parts += [quote(e) for e in extras]
        if contract.one_of_required:
            filled = " OR ".join(f"{self.raw[c]} IS NOT NULL" for c in contract.one_of_required)
            names = " or ".join(contract.one_of_required)
            strict_reasons.append(f"CASE WHEN NOT ({filled}) THEN '{names}: at least one is required' END")
        # One text of '; '-joined reasons, NULL for a good row (concat_ws skips NULLs; far cheaper than lists).
        # A line that could not be read at all has that one reason, not one per missing value.
        reasons = f"NULLIF(concat_ws('; ', {', '.join(strict_reasons[1:])}), '')" if strict_reasons[1:] else "NULL"
        parts.append(f"coalesce({ERROR_COLUMN}, {reasons}) AS __fg_reasons")
        parts.append(f"NULLIF(concat_ws({FINDING_SEPARATOR}, {', '.join(findings)}), '') AS __fg_findings"
                     if findings else "NULL::VARCHAR AS __fg_findings")
        parts += list(self.raw.values())
        typed = f"SELECT {', '.join(parts)} FROM (SELECT {', '.join(texts)} FROM ({landing_sql}) r)"
        derived = ""
        if contract.derived_key_from:
            derived = (f"md5({derived_key_text(contract, {c: quote(c) for c in contract.derived_key_from})}) "
                       f"AS {quote(contract.key[0])}, ")
        typed = f"SELECT {derived}{key_hash(contract, quote)} AS __fg_h, * FROM ({typed})"
        return self._kept(typed, extras)

    def _kept(self, typed: str, extras: list[str]) -> str:
        contract = self.contract

        def text(name: str) -> str:
            return f"CAST({self.raw[name]} AS VARCHAR)" if name in self.native else self.raw[name]

        record = ", ".join(
            f"{sql_str(c)}, {sql_str(CONTACT_SHOWN) if c in contract.column_names and contract.column(c).contact else text(c) if c in contract.column_names else quote(c)}"
            for c in [*contract.column_names, *extras])
        mapped = [self.mapped_column(name) for name in self.mapped]
        kept = [*([quote(contract.key[0])] if contract.derived_key_from else []), "__fg_h", FILE_ID_COLUMN,
                "__fg_blank", NEW_KEYS_COLUMN, *(quote(c.name) for c in contract.columns),
                *(quote(e) for e in extras), *mapped, "__fg_reasons", "__fg_findings"]
        # The record as written is kept only for rows rejected for their own values: building it costs as
        # much as typing. (A row rejected for its references shows its typed values: `typed_record`.)
        return (f"SELECT {', '.join(kept)}, CASE WHEN __fg_reasons IS NOT NULL AND NOT __fg_blank THEN "
                f"json_object({record})::VARCHAR END AS __fg_record FROM ({typed})")

    def checks_across_rows(self, staged_sources: set[str], prior_keys: str | None) -> bool:
        """Whether any row can have a problem only other tables show (references, keys of other days)."""
        return prior_keys is not None or any(r.target_source in staged_sources for r in self.contract.references)

    def problems(self, typed: str, staged_sources: set[str], prior_keys: str | None) -> str:
        """SQL of the rows of table `typed` with a problem other tables show, by `rowid` (`__fg_row`):

        `__fg_refs` (an unknown strict reference, a transaction before its user's sign-up), `__fg_prior`
        (the key was staged on another day), `__fg_ref_findings` (unknown optional references, stored as
        null: `__fg_null_<column>`).
        """
        contract = self.contract
        joins, ref_reasons, nulls, ref_findings = [], [], [], []
        for i, ref in enumerate(contract.references):
            if ref.target_source not in staged_sources:
                continue
            alias = f"_ref{i}"
            column = contract.column(ref.column)
            signup = contract.name == "transactions" and ref.target_source == "users"
            target = (f"SELECT {quote(ref.target_column)} AS _key, CAST(signup_at AS DATE) AS _signup "
                      f"FROM staged.{ref.target_source}" if signup else
                      f"SELECT DISTINCT {quote(ref.target_column)} AS _key FROM staged.{ref.target_source}")
            joins.append(f"LEFT JOIN ({target}) {alias} ON t.{quote(ref.column)} = {alias}._key")
            value = f"t.{quote(ref.column)}"
            shown = CONTACT_SHOWN if column.contact else f"\"' || {value} || '\""
            unknown = f"{value} IS NOT NULL AND {alias}._key IS NULL"
            reason = f"CASE WHEN {unknown} THEN '{ref.column}: {shown} is not a known {ref.target_source}.{ref.target_column}' END"
            if is_strict(contract, column):
                ref_reasons.append(reason)
            else:
                # An unknown optional reference is a finding: the row stays, the reference is null.
                ref_findings.append(reason)
                nulls.append(f"{unknown} AS {self.null_flag(ref.column)}")
            if signup:
                time = quote(contract.event_time_column or "occurred_at")
                ref_reasons.append(
                    f"CASE WHEN {alias}._signup IS NOT NULL AND CAST(t.{time} AS DATE) < {alias}._signup THEN "
                    f"'{ref.column}: ' || {value} || ' signed up on ' || {alias}._signup || ', after this transaction' END")
        prior = "NULL"
        if prior_keys is not None:
            same = " AND ".join(f"t.{quote(k)} = _prior.{quote(k)}" for k in contract.key)
            # Staged keys are unique, so the join adds no row.
            joins.append(f"LEFT JOIN (SELECT {', '.join(quote(k) for k in contract.key)}, true AS _seen "
                         f"FROM ({prior_keys})) _prior ON {same}")
            prior = (f"CASE WHEN _prior._seen THEN 'duplicate key ({', '.join(contract.key)}) = ' || "
                     f"{shown_key(contract, 't.')} || ' already staged in another day''s partition' END")
        refs = f"NULLIF(concat_ws('; ', {', '.join(ref_reasons)}), '')" if ref_reasons else "NULL::VARCHAR"
        found = (f"NULLIF(concat_ws({FINDING_SEPARATOR}, {', '.join(ref_findings)}), '')" if ref_findings
                 else "NULL::VARCHAR")
        flags = "".join(f", {n}" for n in nulls)
        return (f"SELECT * FROM (SELECT t.rowid AS __fg_row, {refs} AS __fg_refs, {prior}::VARCHAR AS __fg_prior, "
                f"{found} AS __fg_ref_findings{flags} FROM {typed} t {' '.join(joins)} WHERE NOT t.__fg_blank) "
                "WHERE __fg_refs IS NOT NULL OR __fg_prior IS NOT NULL OR __fg_ref_findings IS NOT NULL")

    def null_flag(self, name: str) -> str:
        return f"__fg_null_{self.raw[name].rsplit('_', 1)[1]}"

    def _nullable_references(self, staged_sources: set[str]) -> list[str]:
        """Optional reference columns checked against a staged source (an unknown value is stored as null)."""
        return [ref.column for ref in self.contract.references if ref.target_source in staged_sources
                and not is_strict(self.contract, self.contract.column(ref.column))]

    def judged(self, typed: str, problems: str | None, base: int, staged_sources: set[str]) -> str:
        """SQL of every row of table `typed` with its place (`__fg_pos`, from `base`) and every problem."""
        if problems is None:
            return (f"SELECT t.rowid + {base} AS __fg_pos, t.*, NULL::VARCHAR AS __fg_refs, NULL::VARCHAR AS __fg_prior "
                    f"FROM {typed} t")
        nulled = self._nullable_references(staged_sources)
        replaced = ", ".join(f"CASE WHEN p.{self.null_flag(c)} THEN NULL ELSE t.{quote(c)} END AS {quote(c)}"
                             for c in nulled)
        findings = (f"CASE WHEN p.__fg_ref_findings IS NULL THEN t.__fg_findings ELSE concat_ws({FINDING_SEPARATOR}, "
                    "t.__fg_findings, p.__fg_ref_findings) END AS __fg_findings")
        return (f"SELECT t.rowid + {base} AS __fg_pos, t.* REPLACE ({findings}{', ' + replaced if replaced else ''}), "
                f"p.__fg_refs, p.__fg_prior FROM {typed} t LEFT JOIN {problems} p ON p.__fg_row = t.rowid")

    def typed_record(self, extras: list[str]) -> str:
        """SQL of a staged row's record from its typed values (a duplicate's record; contacts masked)."""
        contract = self.contract
        pairs = ", ".join(
            f"{sql_str(c)}, {sql_str(CONTACT_SHOWN) if c in contract.column_names and contract.column(c).contact else f'CAST({quote(c)} AS VARCHAR)'}"
            for c in [*contract.column_names, *extras])
        return f"json_object({pairs})::VARCHAR"

    def content_hash(self, extras: list[str]) -> str:
        """SQL of a hash of every typed value of a row (contacts included): equal for exact copies."""
        values = ", ".join(f"coalesce(CAST({quote(c)} AS VARCHAR), '')" for c in [*self.contract.column_names, *extras])
        return f"md5(concat_ws('|', {values}))"


def shown_key(contract: SourceContract, prefix: str = "") -> str:
    return " || ', ' || ".join(f"coalesce(CAST({prefix}{quote(k)} AS VARCHAR), '')" for k in contract.key)


def derived_key_text(contract: SourceContract, typed: dict[str, str]) -> str:
    """The text a derived key is the md5 of: the typed values of `derived_key_from`, joined by '|'.

    Timestamps enter as epoch microseconds: formatting an instant as text in a time zone costs far more
    than the rest of the key, and the integer names the same instant.
    """
    parts = []
    for name in contract.derived_key_from:
        value = f"epoch_us({typed[name]})" if contract.column(name).type == "timestamp" else typed[name]
        parts.append(f"coalesce(CAST({value} AS VARCHAR), '')")
    return f"concat_ws('|', {', '.join(parts)})"


def key_hash(contract: SourceContract, value: Callable[[str], str]) -> str:
    """A 64-bit hash of a row's key, given the SQL of each key column's typed value.

    For a derived key it hashes the text the key is the md5 of: equal keys have equal text, so its hash
    is as good a filter.
    """
    if contract.derived_key_from:
        return f"hash({derived_key_text(contract, {c: value(c) for c in contract.derived_key_from})})"
    return f"hash({', '.join(value(k) for k in contract.key)})"


def cleaned(text: str) -> str:
    """SQL for a raw text with surrounding spaces removed and blank made NULL.

    Most values have no surrounding space, and testing for one costs a fraction of trimming every value
    (fifty million events have eight text columns each).
    """
    return (f"CASE WHEN {text} LIKE ' %' OR {text} LIKE '% ' OR {text} = '' THEN NULLIF(trim({text}), '') "
            f"ELSE {text} END")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
