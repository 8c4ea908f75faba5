"""Turn the CDNOW purchase log into a minimal landing folder (users + transactions)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sampledata.formats import money


def write_cdnow_landing(out_dir: Path, cdnow_txt: Path) -> None:
    """Write `users.csv` and `transactions.csv` from a CDNOW text file.

    The file has no header and whitespace-separated `customer_id id yyyymmdd quantity dollars`.
    Each line becomes one completed USD transaction (`txn_id` = line number, midnight local time,
    product line "other"); each customer becomes a user who signed up at their first purchase.
    All transactions are kept; the run's as-of date cuts history.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = Path(cdnow_txt).read_text(encoding="utf-8")
    fields = (
        pl.DataFrame({"line": text.splitlines()})
        .with_row_index("line_number", offset=1)
        .select("line_number", pl.col("line").str.extract_all(r"\S+").alias("fields"))
        .filter(pl.col("fields").list.len() >= 5)
    )
    transactions = fields.select(
        pl.col("line_number").cast(pl.Utf8).alias("txn_id"),
        pl.col("fields").list.get(0).alias("user_id"),
        pl.col("fields")
        .list.get(2)
        .str.strptime(pl.Date, "%Y%m%d")
        .dt.strftime("%Y-%m-%d 00:00:00")
        .alias("occurred_at"),
        # Dollars carry at most two decimals, so rounding to cents is exact.
        money((pl.col("fields").list.get(4).cast(pl.Float64) * 100).round(0).cast(pl.Int64)).alias("amount"),
        pl.lit("other").alias("product_line"),
        pl.lit("USD").alias("currency"),
        pl.lit("completed").alias("status"),
    )
    users = transactions.group_by("user_id").agg(pl.col("occurred_at").min().alias("signup_at")).sort("user_id")
    users.write_csv(out_dir / "users.csv")
    transactions.write_csv(out_dir / "transactions.csv")
