"""Deterministic holdout assignment by hashing (campaign_id, user_id)."""

from __future__ import annotations

import hashlib

import polars as pl


def hash_bucket(campaign_id: str, user_id: str) -> float:
    """A uniform number in [0, 100) fixed by the campaign and the user.

    SHA-256 is specified and stable everywhere, so a recomputation years later (or in SQL, or in
    another language) puts every person in the same group. Polars' `hash()` may change between
    releases and must not be used here.
    """
    digest = hashlib.sha256(f"{campaign_id}\x1f{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100.0


def holdout_buckets(campaign_id: str, user_ids: pl.Series) -> pl.DataFrame:
    """`hash_bucket` for each unique user id.

    Args:
        campaign_id: The campaign.
        user_ids: User ids (duplicates and order do not matter).

    Returns:
        One row per unique user id: `user_id` (String), `holdout_bucket` (Float64 in [0, 100)).
    """
    unique_ids = user_ids.cast(pl.String).drop_nulls().unique().to_list()
    prefix = f"{campaign_id}\x1f".encode()
    # hashlib has no vectorised form; this runs once per unique id, not over data frames. It inlines
    # hash_bucket's arithmetic (kept identical; a test pins them together) to halve the per-id cost.
    leading = [
        int.from_bytes(hashlib.sha256(prefix + user_id.encode("utf-8")).digest()[:8], "big") for user_id in unique_ids
    ]
    return pl.DataFrame(
        {"user_id": unique_ids, "holdout_bucket": leading}, schema={"user_id": pl.String, "holdout_bucket": pl.UInt64}
    ).with_columns(pl.col("holdout_bucket").cast(pl.Float64) / 2.0**64 * 100.0)
