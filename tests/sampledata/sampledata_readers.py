"""Readers of a generated landing folder, shared by the sample-data tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl


def read_transactions(out_dir: Path) -> pl.DataFrame:
    return pl.read_parquet(sorted((out_dir / "transactions").glob("date=*/part-0.parquet")), hive_partitioning=False)


def read_events(out_dir: Path) -> pl.DataFrame:
    files = sorted((out_dir / "events").glob("date=*/events.jsonl"))
    return pl.concat([pl.read_ndjson(f, infer_schema_length=None) for f in files], how="diagonal_relaxed")


def read_users(out_dir: Path) -> pl.DataFrame:
    return pl.read_csv(out_dir / "users.csv", infer_schema=False)
