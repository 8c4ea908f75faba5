"""The CDNOW sample shipped with lifetimes converts into users + transactions."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import polars as pl

from sampledata import write_cdnow_landing


def cdnow_sample() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / "datasets" / "CDNOW_sample.txt"


def test_cdnow_sample_converts_every_line(tmp_path: Path) -> None:
    source = cdnow_sample()
    write_cdnow_landing(tmp_path, source)
    txns = pl.read_csv(tmp_path / "transactions.csv", infer_schema=False)
    users = pl.read_csv(tmp_path / "users.csv", infer_schema=False)
    assert txns.height == 6_919
    assert users.height == 2_357
    assert txns["txn_id"].cast(pl.Int64).to_list() == list(range(1, 6_920))
    assert set(txns["currency"]) == {"USD"} and set(txns["product_line"]) == {"other"}
    assert set(txns["status"]) == {"completed"}
    assert txns["amount"].str.contains(r"^\d+\.\d{2}$").all()
    assert txns["occurred_at"].str.contains(r"^199[78]-\d{2}-\d{2} 00:00:00$").all()
    # Money stays exact: the cents add up to the file's dollars.
    raw = pl.read_csv(source, has_header=False, separator="\t", new_columns=["line"])
    dollars = raw["line"].str.strip_chars().str.extract(r"(\S+)$").cast(pl.Float64).sum()
    cents = (txns["amount"].str.replace(".", "", literal=True).cast(pl.Int64)).sum()
    assert cents == round(dollars * 100)


def test_cdnow_users_sign_up_at_first_purchase(tmp_path: Path) -> None:
    write_cdnow_landing(tmp_path, cdnow_sample())
    txns = pl.read_csv(tmp_path / "transactions.csv", infer_schema=False)
    users = pl.read_csv(tmp_path / "users.csv", infer_schema=False)
    first = txns.group_by("user_id").agg(pl.col("occurred_at").min())
    joined = users.join(first, on="user_id")
    assert joined.height == users.height
    assert (joined["signup_at"] == joined["occurred_at"]).all()
    assert users.filter(pl.col("user_id") == "00004")["signup_at"].item() == "1997-01-01 00:00:00"
