"""Attribution models and the per-channel roll-up.

Every model turns journeys into per-touch credit (a ``credit`` column, Float64, and a
``value_credit`` column: the share of conversion value carried by the row). Allocation rules:

- ``first_touch`` / ``last_touch``: the whole conversion to the first / last touch.
- ``linear``: ``1 / touches`` to every touch (a channel touched twice gets two shares).
- ``time_decay``: weight ``2 ** (-(converted_at - occurred_at) / half_life)``, normalised within the
  conversion; half-life 7 days by default.
- ``position_based``: 40 % to the first touch, 40 % to the last, 20 % shared evenly by the touches
  in between; with two touches the ends split the whole in proportion to their weights (50/50), with
  one touch it takes everything. Weights are configurable.
- ``shapley``: the simplified Shapley value of Zhao et al. (2018) with ``v(S)`` = conversions of
  journeys whose channels all lie in ``S``. Its closed form gives each *distinct* channel of a journey
  ``1 / (number of distinct channels)``; the credit sits on the channel's first touch.
  :func:`channels.shapley.exact_shapley` computes the same game from its definition.
- ``markov``: exact removal effects of the absorbing Markov chain, conversions allocated globally in
  proportion to them (see :mod:`channels.markov`). It is the only model that uses non-converting
  paths, and the only one whose credit does not sum to 1 within each conversion: a channel's total
  is spread evenly over the converting journeys it appears in, on its first touch there, so that
  channel totals are right and per-user weights (for LTV) are even within a channel.

For all models but ``markov``, ``value_credit = credit * conversion_value`` (null values stay null
and count as nothing). A ``(direct)`` journey (no touch in the window) gets credit 1 from every model.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from channels._columns import require_columns
from channels.journeys import DIRECT_CHANNEL
from channels.markov import markov_removal_effects

_JOURNEY_KEYS = ["conversion_id", "channel", "position", "touches", "conversion_value"]


@dataclass(frozen=True)
class AttributionSettings:
    """Knobs of the configurable models.

    Attributes:
        half_life_days: Time-decay half-life, in days (> 0).
        position_weights: Position-based (first, middle, last) shares; they must sum to 1.
        markov_order: Order of the Markov chain (>= 1).
    """

    half_life_days: float = 7.0
    position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4)
    markov_order: int = 1

    def __post_init__(self) -> None:
        if not self.half_life_days > 0:
            raise ValueError(f"half_life_days must be positive, got {self.half_life_days}")
        if len(self.position_weights) != 3 or min(self.position_weights) < 0:
            raise ValueError(f"position_weights must be three non-negative shares, got {self.position_weights}")
        if abs(sum(self.position_weights) - 1.0) > 1e-9:
            raise ValueError(f"position_weights must sum to 1, got {self.position_weights}")
        if self.position_weights[0] + self.position_weights[2] <= 0:
            raise ValueError("position_weights must give the first or the last touch some weight")
        if self.markov_order < 1:
            raise ValueError(f"markov_order must be >= 1, got {self.markov_order}")


AttributionModel = Callable[[pl.DataFrame, pl.DataFrame | None, AttributionSettings], pl.DataFrame]


def first_touch(journeys: pl.DataFrame) -> pl.DataFrame:
    """First-touch: the whole conversion goes to the touch at ``position == 1``.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.

    Returns:
        ``journeys`` with a ``credit`` column (Float64): 1.0 on the first touch, 0.0 elsewhere.
    """
    return journeys.with_columns((pl.col("position") == 1).cast(pl.Float64).alias("credit"))


def last_touch(journeys: pl.DataFrame) -> pl.DataFrame:
    """Last-touch: the whole conversion goes to the touch at ``position == touches``.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.

    Returns:
        ``journeys`` with a ``credit`` column (Float64): 1.0 on the last touch, 0.0 elsewhere.
    """
    return journeys.with_columns(
        (pl.col("position") == pl.col("touches")).cast(pl.Float64).alias("credit")
    )


def linear(journeys: pl.DataFrame) -> pl.DataFrame:
    """Linear: every touch of a journey gets an equal share, ``1 / touches``.

    A channel touched twice in one journey therefore gets two shares.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.

    Returns:
        ``journeys`` with a ``credit`` column (Float64) equal to ``1 / touches``.
    """
    return journeys.with_columns((1.0 / pl.col("touches").cast(pl.Float64)).alias("credit"))


def time_decay(journeys: pl.DataFrame, half_life_days: float = 7.0) -> pl.DataFrame:
    """Time-decay: a touch's weight halves every ``half_life_days`` before the conversion.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys` (needs ``occurred_at`` and
            ``converted_at``; a ``(direct)`` row, without ``occurred_at``, gets weight 1).
        half_life_days: Half-life in days (> 0).

    Returns:
        ``journeys`` with a ``credit`` column (Float64) summing to 1 within each conversion.
    """
    require_columns(journeys, ["occurred_at", "converted_at"], "journeys")
    if not half_life_days > 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days}")
    age_days = (pl.col("converted_at") - pl.col("occurred_at")).dt.total_microseconds() / 86_400e6
    # Measured from the journey's latest touch, so a long lookback with a short half-life cannot
    # underflow every weight of a journey to zero. Each window is materialised before the next one
    # reads it: nesting them in one expression made Polars recompute per group, 20x slower.
    weighted = (
        journeys.with_columns(age_days.alias("_age"))
        .with_columns(
            (pl.col("_age") - pl.col("_age").min().over("conversion_id"))
            .fill_null(0.0)
            .mul(-math.log(2.0) / half_life_days)
            .exp()
            .alias("_weight")
        )
    )
    return weighted.with_columns(
        (pl.col("_weight") / pl.col("_weight").sum().over("conversion_id")).alias("credit")
    ).drop("_age", "_weight")


def position_based(
    journeys: pl.DataFrame, weights: tuple[float, float, float] = (0.4, 0.2, 0.4)
) -> pl.DataFrame:
    """Position-based (U-shaped): ``weights`` = (first, middle, last) shares, 40/20/40 by default.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.
        weights: Shares of the first touch, of all middle touches together, and of the last touch.

    Returns:
        ``journeys`` with a ``credit`` column (Float64) summing to 1 within each conversion.
    """
    first, middle, last = weights
    position, touches = pl.col("position"), pl.col("touches")
    credit = (
        pl.when(touches == 1).then(1.0)
        .when(touches == 2)
        .then(pl.when(position == 1).then(first / (first + last)).otherwise(last / (first + last)))
        .when(position == 1).then(first)
        .when(position == touches).then(last)
        .otherwise(middle / (touches - 2).cast(pl.Float64))
    )
    return journeys.with_columns(credit.cast(pl.Float64).alias("credit"))


def shapley(journeys: pl.DataFrame) -> pl.DataFrame:
    """Simplified Shapley (Zhao et al. 2018): each distinct channel of a journey gets an equal share.

    With ``v(S)`` = conversions of journeys whose channels all lie in ``S``, a journey with distinct
    channel set ``T`` is the unanimity game on ``T``, whose Shapley value is ``1 / |T|`` for each
    member; sums over journeys stay exact because the Shapley value is additive.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.

    Returns:
        ``journeys`` with a ``credit`` column (Float64): ``1 / distinct channels`` on the first touch
        of each channel in the journey, 0.0 on repeats.
    """
    first_of_channel = pl.col("position") == pl.col("position").min().over("conversion_id", "channel")
    distinct = pl.col("channel").n_unique().over("conversion_id").cast(pl.Float64)
    return journeys.with_columns(
        pl.when(first_of_channel).then(1.0 / distinct).otherwise(0.0).alias("credit")
    )


def markov(
    journeys: pl.DataFrame, non_converting: pl.DataFrame | None = None, order: int = 1
) -> pl.DataFrame:
    """Markov chain with exact removal effects, allocated globally (see :mod:`channels.markov`).

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.
        non_converting: Output of :func:`channels.journeys.build_non_converting_paths`, or None.
        order: Markov order.

    Returns:
        ``journeys`` with ``credit`` and ``value_credit`` (Float64): a channel's allocated
        conversions (revenue) divided evenly over the converting journeys it appears in, on its first
        touch in each; ``(direct)`` rows get 1 and their own value.
    """
    totals = markov_removal_effects(journeys, non_converting, order).select(
        "channel", pl.col("conversions").alias("_conversions"), pl.col("revenue").alias("_revenue")
    )
    first_of_channel = pl.col("position") == pl.col("position").min().over("conversion_id", "channel")
    marked = journeys.with_columns(first_of_channel.alias("_first"))
    appearances = marked.filter(pl.col("_first")).group_by("channel").agg(pl.len().alias("_journeys"))
    is_direct = pl.col("channel") == DIRECT_CHANNEL
    return (
        marked.join(totals.join(appearances, on="channel"), on="channel", how="left", maintain_order="left")
        .with_columns(
            pl.when(is_direct).then(1.0)
            .when(pl.col("_first")).then(pl.col("_conversions") / pl.col("_journeys"))
            .otherwise(0.0)
            .alias("credit"),
            pl.when(is_direct).then(pl.col("conversion_value").cast(pl.Float64))
            .when(pl.col("_first")).then(pl.col("_revenue") / pl.col("_journeys"))
            .otherwise(0.0)
            .alias("value_credit"),
        )
        .drop("_first", "_conversions", "_revenue", "_journeys")
    )


ATTRIBUTION_MODELS: dict[str, AttributionModel] = {
    "first_touch": lambda journeys, _paths, _settings: first_touch(journeys),
    "last_touch": lambda journeys, _paths, _settings: last_touch(journeys),
    "linear": lambda journeys, _paths, _settings: linear(journeys),
    "time_decay": lambda journeys, _paths, settings: time_decay(journeys, settings.half_life_days),
    "position_based": lambda journeys, _paths, settings: position_based(journeys, settings.position_weights),
    "shapley": lambda journeys, _paths, _settings: shapley(journeys),
    "markov": lambda journeys, paths, settings: markov(journeys, paths, settings.markov_order),
}
"""Registered attribution models by name (the ``attribution_model`` value in outputs). Each takes
(journeys, non-converting paths or None, settings) and returns journeys with ``credit``."""


def assign_credit(
    journeys: pl.DataFrame,
    model: str,
    *,
    non_converting: pl.DataFrame | None = None,
    settings: AttributionSettings | None = None,
) -> pl.DataFrame:
    """Run the registered model ``model`` over ``journeys``.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.
        model: A key of :data:`ATTRIBUTION_MODELS`.
        non_converting: Output of :func:`channels.journeys.build_non_converting_paths`; only the
            Markov model reads it.
        settings: Model knobs; defaults when None.

    Returns:
        ``journeys`` with Float64 ``credit`` and ``value_credit`` columns.
    """
    if model not in ATTRIBUTION_MODELS:
        known = ", ".join(sorted(ATTRIBUTION_MODELS))
        raise ValueError(f"unknown attribution model {model!r}; known models: {known}")
    require_columns(journeys, _JOURNEY_KEYS, "journeys")
    credited = ATTRIBUTION_MODELS[model](journeys, non_converting, settings or AttributionSettings())
    if "value_credit" not in credited.columns:
        credited = credited.with_columns(
            (pl.col("credit") * pl.col("conversion_value").cast(pl.Float64)).alias("value_credit")
        )
    return credited


def attribute(
    journeys: pl.DataFrame,
    model: str,
    *,
    non_converting: pl.DataFrame | None = None,
    settings: AttributionSettings | None = None,
) -> pl.DataFrame:
    """Credit conversions and their value to channels with one model.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.
        model: A key of :data:`ATTRIBUTION_MODELS`.
        non_converting: Non-converting paths, for the Markov model (see :func:`assign_credit`).
        settings: Model knobs; defaults when None.

    Returns:
        One row per channel seen in ``journeys`` (including ``"(direct)"`` and channels that earn
        zero credit under this model), sorted by channel: ``channel`` (str),
        ``attribution_model`` (str), ``conversions`` (Float64, sum of credit; fractional for
        most models) and ``revenue`` (Float64, sum of value credit; null values count
        as nothing).
    """
    return (
        assign_credit(journeys, model, non_converting=non_converting, settings=settings)
        .group_by("channel")
        .agg(
            pl.col("credit").sum().alias("conversions"),
            pl.col("value_credit").sum().alias("revenue"),
        )
        .select(
            "channel",
            pl.lit(model, dtype=pl.String).alias("attribution_model"),
            "conversions",
            "revenue",
        )
        .sort("channel")
    )


def attribute_all(
    journeys: pl.DataFrame,
    models: Sequence[str] | None = None,
    *,
    non_converting: pl.DataFrame | None = None,
    settings: AttributionSettings | None = None,
) -> pl.DataFrame:
    """Stack :func:`attribute` over several models (all registered ones when None).

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.
        models: Model names to run; defaults to every key of :data:`ATTRIBUTION_MODELS`.
        non_converting: Non-converting paths, for the Markov model.
        settings: Model knobs; defaults when None.

    Returns:
        One row per channel × model, with the columns of :func:`attribute`.
    """
    names = list(ATTRIBUTION_MODELS) if models is None else list(models)
    return pl.concat(
        [attribute(journeys, name, non_converting=non_converting, settings=settings) for name in names]
    )
