"""Identity stitching: link anonymous ids to known users so pre-login touches can be attributed."""

import polars as pl

from channels._columns import require_columns


def stitch_identities(events: pl.DataFrame) -> pl.DataFrame:
    """Map each ``anonymous_id`` to one ``user_id`` from events that carry both.

    When one anonymous id was seen with several users (a shared device), the user of the earliest
    such event wins; ties on ``occurred_at`` go to the smallest ``user_id`` so the map is
    deterministic.

    Args:
        events: Staged events with ``anonymous_id``, ``user_id`` and ``occurred_at``.

    Returns:
        One row per anonymous id: ``anonymous_id`` (str), ``user_id`` (str) and ``linked_at``
        (timestamp of the earliest event that linked them).
    """
    require_columns(events, ["anonymous_id", "user_id", "occurred_at"], "events")
    return (
        events.lazy()
        .filter(pl.col("anonymous_id").is_not_null() & pl.col("user_id").is_not_null())
        .group_by("anonymous_id")
        .agg(
            pl.col("user_id").sort_by(["occurred_at", "user_id"]).first(),
            pl.col("occurred_at").min().alias("linked_at"),
        )
        .sort("anonymous_id")
        .collect()
    )


def resolve_touchpoints(touchpoints: pl.DataFrame, identity_map: pl.DataFrame) -> pl.DataFrame:
    """Fill a null ``user_id`` on touchpoints from the identity map, via ``anonymous_id``.

    A ``user_id`` already present is never overwritten. Touchpoints whose anonymous id is unknown
    keep a null ``user_id``; journeys ignore them because they cannot be tied to a conversion.

    Args:
        touchpoints: Staged touchpoints with ``user_id`` and ``anonymous_id``.
        identity_map: Output of :func:`stitch_identities` (``anonymous_id``, ``user_id``).

    Returns:
        The touchpoints with the same columns, rows and order, ``user_id`` filled where possible.
    """
    require_columns(touchpoints, ["user_id", "anonymous_id"], "touchpoints")
    require_columns(identity_map, ["anonymous_id", "user_id"], "identity_map")
    lookup = identity_map.select("anonymous_id", pl.col("user_id").alias("_stitched_user_id"))
    return (
        touchpoints.join(lookup, on="anonymous_id", how="left", maintain_order="left")
        .with_columns(pl.coalesce("user_id", "_stitched_user_id").alias("user_id"))
        .select(touchpoints.columns)
    )
