"""Conversion journeys: the ordered touches that precede each conversion within a lookback window.

Grain of the output: one row per (conversion, touch), plus one ``(direct)`` row per conversion that
had no touch in its window, so that credit always sums to the number of conversions.
:func:`build_non_converting_paths` gives the paths that never converted (for Markov models): those of users
without a conversion and those of anonymous visitors no event tied to a user.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from channels._columns import require_columns

DIRECT_CHANNEL = "(direct)"
"""Channel given to conversions with no touch in their lookback window (direct / unattributed)."""

JOURNEY_COLUMNS = [
    "conversion_id",
    "user_id",
    "converted_at",
    "conversion_value",
    "touchpoint_id",
    "occurred_at",
    "channel",
    "touch_type",
    "position",
    "touches",
]


def build_journeys(
    touchpoints: pl.DataFrame,
    conversions: pl.DataFrame,
    lookback_days: int = 30,
    *,
    touch_types: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Assemble, per conversion, the touches that led to it.

    A touch belongs to a conversion of the same user when
    ``converted_at - lookback_days <= occurred_at < converted_at`` (touches at or after the
    conversion never count) and, if the user converted before, ``occurred_at >=`` that previous
    conversion, so a touch is credited to at most one conversion. Touches with a null ``user_id``
    (unresolved anonymous touches) are ignored. Order within a journey is by ``occurred_at``,
    ties by ``touchpoint_id``.

    A conversion with no qualifying touch is kept as a one-row journey with channel ``"(direct)"``,
    null ``touchpoint_id``/``occurred_at``/``touch_type``, ``position = touches = 1``.

    Args:
        touchpoints: ``touchpoint_id``, ``user_id``, ``occurred_at``, ``channel``, ``touch_type``.
        conversions: ``user_id``, ``converted_at``, ``conversion_value`` (one row per conversion;
            usually one per user, see :func:`channels.conversions.first_conversions`). An optional
            ``conversion_id`` column is kept; otherwise one is numbered by (user_id, converted_at).
        lookback_days: Length of the window before each conversion, in days (> 0).
        touch_types: Keep only these touch types (e.g. ``["click"]``); all when None.

    Returns:
        Columns ``conversion_id``, ``user_id``, ``converted_at``, ``conversion_value`` (Float64),
        ``touchpoint_id``, ``occurred_at``, ``channel``, ``touch_type``, ``position`` (Int32,
        1 = first touch), ``touches`` (Int32, journey length), sorted by conversion and position.
    """
    require_columns(
        touchpoints,
        ["touchpoint_id", "user_id", "occurred_at", "channel", "touch_type"],
        "touchpoints",
    )
    require_columns(conversions, ["user_id", "converted_at", "conversion_value"], "conversions")
    if lookback_days <= 0:
        raise ValueError(f"lookback_days must be positive, got {lookback_days}")

    touch_time_type = touchpoints.schema["occurred_at"]
    numbered = _number_conversions(conversions).with_columns(
        pl.col("converted_at").cast(touch_time_type),
        pl.col("conversion_value").cast(pl.Float64),
    )
    windows = numbered.lazy().with_columns(
        (pl.col("converted_at") - timedelta(days=lookback_days)).alias("_window_start"),
        pl.col("converted_at").shift(1).over("user_id", order_by="converted_at")
        .alias("_previous_conversion_at"),
    )

    touches = touchpoints.lazy().filter(pl.col("user_id").is_not_null())
    if touch_types is not None:
        touches = touches.filter(pl.col("touch_type").is_in(list(touch_types)))
    # Plain strings so the "(direct)" label fits whatever categorical type the source used.
    touches = touches.select(
        "touchpoint_id",
        "user_id",
        "occurred_at",
        pl.col("channel").cast(pl.String),
        pl.col("touch_type").cast(pl.String),
    )

    touched = (
        touches.join(windows, on="user_id", how="inner")
        .filter(
            (pl.col("occurred_at") < pl.col("converted_at"))
            & (pl.col("occurred_at") >= pl.col("_window_start"))
            & (
                pl.col("_previous_conversion_at").is_null()
                | (pl.col("occurred_at") >= pl.col("_previous_conversion_at"))
            )
        )
        .sort(["conversion_id", "occurred_at", "touchpoint_id"])
        .with_columns(
            (pl.int_range(pl.len(), dtype=pl.Int32).over("conversion_id") + 1).alias("position"),
            pl.len().over("conversion_id").cast(pl.Int32).alias("touches"),
        )
        .select(JOURNEY_COLUMNS)
        .collect()
    )

    direct = (
        numbered.join(touched.select("conversion_id").unique(), on="conversion_id", how="anti")
        .with_columns(
            pl.lit(None, dtype=touchpoints.schema["touchpoint_id"]).alias("touchpoint_id"),
            pl.lit(None, dtype=touch_time_type).alias("occurred_at"),
            pl.lit(DIRECT_CHANNEL, dtype=pl.String).alias("channel"),
            pl.lit(None, dtype=pl.String).alias("touch_type"),
            pl.lit(1, dtype=pl.Int32).alias("position"),
            pl.lit(1, dtype=pl.Int32).alias("touches"),
        )
        .select(JOURNEY_COLUMNS)
    )
    return pl.concat([touched, direct]).sort(["conversion_id", "position"])


def _number_conversions(conversions: pl.DataFrame) -> pl.DataFrame:
    """Give each conversion a key; sort first so the numbering does not depend on input order."""
    if "conversion_id" in conversions.columns:
        return conversions
    return conversions.sort(["user_id", "converted_at"]).with_row_index("conversion_id")


NON_CONVERTING_COLUMNS = [
    "path_id",
    "user_id",
    "anonymous_id",
    "touchpoint_id",
    "occurred_at",
    "channel",
    "touch_type",
    "position",
    "touches",
]


def build_non_converting_paths(
    touchpoints: pl.DataFrame,
    conversions: pl.DataFrame,
    cutoff: datetime,
    lookback_days: int = 30,
    *,
    touch_types: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Assemble the paths that did not (yet) end in a conversion: the "null" paths of Markov models.

    Who a null path belongs to (the rule every model that reads non-converting paths relies on):

    - a touch with a ``user_id`` (given, or stitched from its ``anonymous_id`` beforehand by
      :func:`channels.identity_stitching.resolve_touchpoints`) belongs to that user's path, and a
      user who has any conversion in ``conversions`` has no null path;
    - a touch without a ``user_id`` but with an ``anonymous_id`` belongs to the path of that
      anonymous id: a visitor whom no event ever tied to a user, so who cannot have converted.
      These journeys are most of the null paths of real traffic (people who clicked an ad and never
      signed up); leaving them out would make every channel look as if its touches nearly always
      converted, and shift credit toward the channels that bring sign-ups;
    - a touch with neither is dropped.

    Each path holds its touches with ``cutoff - lookback_days <= occurred_at < cutoff``. The window
    mirrors the one of :func:`build_journeys`, as if the user had been observed converting at the
    cut-off, so converting and non-converting paths are equally long on average. Users who did
    convert are left out even for touches after their conversion: with first-conversion journeys they
    are already customers, and their later touches are neither a success nor a failure of acquisition.

    Args:
        touchpoints: As for :func:`build_journeys`, optionally with ``anonymous_id`` (without it only
            known users have null paths).
        conversions: As for :func:`build_journeys` (only ``user_id`` is used).
        cutoff: End of the observation window (exclusive), e.g. the analysis window end; a
            timezone-aware instant when ``occurred_at`` is.
        lookback_days: Length of the window before ``cutoff``, in days (> 0).
        touch_types: Keep only these touch types; all when None.

    Returns:
        Columns ``path_id`` (UInt32, numbered by user then anonymous id), ``user_id`` (null on an
        anonymous path), ``anonymous_id`` (null on a user's path), ``touchpoint_id``,
        ``occurred_at``, ``channel``, ``touch_type``, ``position`` (Int32), ``touches`` (Int32),
        sorted by path and position. Users and visitors with no touch in the window have no path.
    """
    require_columns(
        touchpoints,
        ["touchpoint_id", "user_id", "occurred_at", "channel", "touch_type"],
        "touchpoints",
    )
    require_columns(conversions, ["user_id"], "conversions")
    if lookback_days <= 0:
        raise ValueError(f"lookback_days must be positive, got {lookback_days}")

    user_type = touchpoints.schema["user_id"]
    has_anonymous = "anonymous_id" in touchpoints.columns
    anonymous = pl.col("anonymous_id") if has_anonymous else pl.lit(None, dtype=pl.String)
    touches = touchpoints.lazy().with_columns(
        pl.when(pl.col("user_id").is_null()).then(anonymous.cast(pl.String)).alias("anonymous_id")
    ).filter(
        (pl.col("user_id").is_not_null() | pl.col("anonymous_id").is_not_null())
        & (pl.col("occurred_at") < cutoff)
        & (pl.col("occurred_at") >= cutoff - timedelta(days=lookback_days))
    )
    if touch_types is not None:
        touches = touches.filter(pl.col("touch_type").is_in(list(touch_types)))
    converted = conversions.lazy().select(pl.col("user_id").cast(user_type)).unique().with_columns(
        pl.lit(True).alias("_converted"))
    paths = (
        # A left join keeps anonymous touches (null user_id never matches); converted users drop out.
        touches.join(converted, on="user_id", how="left")
        .filter(pl.col("_converted").is_null())
        .select(
            "user_id",
            "anonymous_id",
            "touchpoint_id",
            "occurred_at",
            pl.col("channel").cast(pl.String),
            pl.col("touch_type").cast(pl.String),
        )
        # Users' paths first (null anonymous ids), then visitors' paths: one key orders both.
        .sort(["user_id", "anonymous_id", "occurred_at", "touchpoint_id"], nulls_last=[True, False, False, False])
        .with_columns(
            pl.struct("user_id", "anonymous_id").rle_id().cast(pl.UInt32).alias("path_id"),
        )
        .with_columns(
            (pl.int_range(pl.len(), dtype=pl.Int32).over("path_id") + 1).alias("position"),
            pl.len().over("path_id").cast(pl.Int32).alias("touches"),
        )
        .select(NON_CONVERTING_COLUMNS)
    )
    return paths.collect()
