"""Stage a whole landing folder the way a run does, source by source, for tests that look at the result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.accounting import create_finding_views, record_row_accounting
from ingest.contracts import CONTRACTS
from ingest.staging import StageCounts, load_raw, source_options, stage_source
from warehouse import connect


@dataclass
class Staged:
    conn: duckdb.DuckDBPyConnection
    counts: dict[str, StageCounts]

    def rows(self, sql: str) -> list[tuple]:
        return self.conn.sql(sql).fetchall()

    def findings(self, source: str, kind: str = "row") -> list[tuple]:
        """(file, line, reasons) of one kind of finding of a source, in file and line order."""
        return self.rows(f"SELECT source_file, line, reasons FROM quarantine.{source} WHERE kind = '{kind}' "
                         "ORDER BY source_file, line")


def stage_folder(landing: Path, workdir: Path, sources: tuple[str, ...] | None = None,
                 parquet: bool = False, value_maps: Path | None = None) -> Staged:
    """Stage every source (or the named ones, with users and products first) into `workdir/w.duckdb`."""
    conn = connect(workdir / "w.duckdb")
    staged: set[str] = set()
    counts = {}
    for contract in CONTRACTS:
        if sources is not None and contract.name not in sources:
            continue
        options = source_options(landing, contract.name, value_maps, scratch=workdir / "scratch")
        loaded = load_raw(conn, contract, landing, options)
        counts[contract.name] = stage_source(conn, contract, landing, "run", staged, options,
                                             parquet_dir=str(workdir / "staged") if parquet else None)
        if loaded.present:
            staged.add(contract.name)
    record_row_accounting(conn, [c for c in CONTRACTS if c.name in counts], "run")
    create_finding_views(conn, CONTRACTS)
    return Staged(conn, counts)
