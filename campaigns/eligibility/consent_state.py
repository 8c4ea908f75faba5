"""Consent state as of an instant, from the append-only consent records."""

from __future__ import annotations

from datetime import datetime

import polars as pl

# When a grant and a withdrawal carry the same timestamp, the withdrawal wins (fail closed).
_STATUS_PRECEDENCE = pl.when(pl.col("status") == "withdrawn").then(1).otherwise(0)


def latest_consents(consents: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """The latest consent record per (user, channel, purpose) recorded at or before `as_of`.

    Args:
        consents: `staged.consents` (user_id, channel, purpose, status, recorded_at[, evidence_ref]).
        as_of: A timezone-aware instant.

    Returns:
        One row per (user_id, channel, purpose) with that record's columns.
    """
    require_aware(as_of, "as_of")
    recorded = consents.schema.get("recorded_at")
    if not isinstance(recorded, pl.Datetime) or recorded.time_zone is None:
        raise ValueError(f"consents.recorded_at must be a timezone-aware Datetime, got {recorded}")
    return (
        consents.filter(pl.col("recorded_at") <= pl.lit(as_of))
        .with_columns(_STATUS_PRECEDENCE.alias("_precedence"))
        .sort("recorded_at", "_precedence")
        .unique(["user_id", "channel", "purpose"], keep="last", maintain_order=False)
        .drop("_precedence")
    )


def require_aware(moment: datetime, name: str) -> None:
    """Reject naive datetimes: an instant without a zone is ambiguous by hours."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
