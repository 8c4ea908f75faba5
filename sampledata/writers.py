"""Writers for each landing format, byte-for-byte reproducible."""

from __future__ import annotations

from pathlib import Path

import polars as pl

PARTITION_COLUMN = "_date"


def write_csv(frame: pl.DataFrame, path: Path, bom: bool = False) -> None:
    """CSV with a header; empty fields for nulls."""
    frame.write_csv(path, include_bom=bom)


def write_jsonl(frame: pl.DataFrame, path: Path) -> None:
    frame.write_ndjson(path)


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    frame.write_parquet(path, compression="zstd", statistics=True)


def write_partitioned(frame: pl.DataFrame, folder: Path, columns: tuple[str, ...], file_name: str) -> int:
    """One `date=YYYY-MM-DD/<file_name>` per value of the internal `_date` column; returns partitions."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = frame.partition_by(PARTITION_COLUMN, as_dict=True, maintain_order=True)
    for (day,), part in sorted(parts.items()):
        target = folder / f"date={day}"
        target.mkdir(exist_ok=True)
        rows = part.select(columns)
        if file_name.endswith(".parquet"):
            write_parquet(rows, target / file_name)
        else:
            write_jsonl(rows, target / file_name)
    return len(parts)
