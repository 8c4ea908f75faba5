"""Deterministic A/B variant assignment by hashing (campaign_id, "variant", user_id).

The salt differs from the holdout hash (`campaigns.eligibility.holdout_assignment`), so who is held out and which variant a
person gets are independent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import polars as pl

from campaigns.definitions.campaign_file import Variant

_SALT = "variant"


def variant_buckets(campaign_id: str, user_ids: pl.Series) -> pl.DataFrame:
    """A uniform number in [0, 1) per unique user id, fixed by the campaign and the user (SHA-256).

    Returns:
        One row per unique user id: `user_id` (String), `variant_bucket` (Float64).
    """
    unique_ids = user_ids.cast(pl.String).drop_nulls().unique().sort().to_list()
    prefix = f"{campaign_id}\x1f{_SALT}\x1f".encode()
    # hashlib has no vectorised form; one call per unique id (as in holdout_buckets), not a row loop over frames.
    leading = [int.from_bytes(hashlib.sha256(prefix + u.encode("utf-8")).digest()[:8], "big") for u in unique_ids]
    return pl.DataFrame(
        {"user_id": unique_ids, "variant_bucket": leading}, schema={"user_id": pl.String, "variant_bucket": pl.UInt64}
    ).with_columns(pl.col("variant_bucket").cast(pl.Float64) / 2.0**64)


def assign_variants(campaign_id: str, user_ids: pl.Series, arms: Sequence[Variant]) -> pl.DataFrame:
    """Each user's variant: the arm whose cumulative weight share contains the user's bucket.

    Returns:
        One row per unique user id: `user_id`, `variant` (the arm name).
    """
    total = sum(arm.weight for arm in arms)
    buckets = variant_buckets(campaign_id, user_ids)
    expr = pl.lit(arms[-1].name)
    upper = 0.0
    chosen = None
    for arm in arms[:-1]:
        upper += arm.weight / total
        chosen = (chosen if chosen is not None else pl).when(pl.col("variant_bucket") < upper).then(pl.lit(arm.name))
    expr = chosen.otherwise(pl.lit(arms[-1].name)) if chosen is not None else expr
    return buckets.select("user_id", expr.alias("variant"))
