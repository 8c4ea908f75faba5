"""CDNOW sample data (shipped inside the ``lifetimes`` package, read without importing it)."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from value.rfm_summary import rfm_summary

CALIBRATION_END = date(1997, 9, 30)


def lifetimes_dataset(name: str) -> Path:
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations, "lifetimes (test extra) is not installed"
    return Path(spec.submodule_search_locations[0]) / "datasets" / name


@pytest.fixture(scope="session")
def cdnow_transactions() -> pl.DataFrame:
    """Raw CDNOW sample: one row per transaction line (customer_id, id, yyyymmdd, quantity, dollars)."""
    text = lifetimes_dataset("CDNOW_sample.txt").read_text()
    raw = pl.DataFrame({"line": text.splitlines()}).filter(pl.col("line").str.strip_chars() != "")
    parts = raw.select(pl.col("line").str.strip_chars().str.extract_all(r"\S+").alias("parts"))
    return parts.select(
        pl.col("parts").list.get(1).cast(pl.Int64).alias("user_id"),
        pl.col("parts").list.get(2).str.to_date("%Y%m%d").alias("txn_date"),
        pl.col("parts").list.get(3).cast(pl.Int64).alias("quantity"),
        pl.col("parts").list.get(4).cast(pl.Float64).alias("amount"),
    )


@pytest.fixture(scope="session")
def cdnow_calibration(cdnow_transactions: pl.DataFrame) -> pl.DataFrame:
    return cdnow_transactions.filter(pl.col("txn_date") <= CALIBRATION_END)


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_calibration: pl.DataFrame) -> pl.DataFrame:
    """Weekly RFM summary of the 39-week calibration period (1997-01-01 .. 1997-09-30)."""
    return rfm_summary(cdnow_calibration, CALIBRATION_END, time_unit_days=7.0)
