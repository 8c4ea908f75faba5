"""Conversion events for attribution, derived from staged transactions."""

import polars as pl

from channels._columns import require_columns


def first_conversions(
    transactions: pl.DataFrame, value_column: str = "revenue"
) -> pl.DataFrame:
    """Take each user's first completed transaction as their conversion.

    Only ``status == "completed"`` rows count (when a ``status`` column exists). Ties on
    ``occurred_at`` are broken by ``txn_id`` so the choice is deterministic.

    Args:
        transactions: Staged transactions with ``txn_id``, ``user_id``, ``occurred_at`` and
            ``value_column``.
        value_column: Column giving the conversion's value; ``revenue`` (what the company earns)
            by default, since ROAS compares it with spend. A null value stays null.

    Returns:
        One row per converting user: ``user_id`` (str), ``converted_at`` (timestamp),
        ``conversion_value`` (Float64).
    """
    required = ["txn_id", "user_id", "occurred_at", value_column]
    require_columns(transactions, required, "transactions")
    completed = transactions.lazy()
    if "status" in transactions.columns:
        completed = completed.filter(pl.col("status") == "completed")
    return (
        completed.sort(["user_id", "occurred_at", "txn_id"])
        .unique("user_id", keep="first", maintain_order=True)
        .select(
            "user_id",
            pl.col("occurred_at").alias("converted_at"),
            pl.col(value_column).cast(pl.Float64).alias("conversion_value"),
        )
        .collect()
    )
