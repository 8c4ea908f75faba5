"""Rule-based attribution models and the per-channel roll-up.

Each model is a function ``journeys -> journeys + credit`` (Float64, one value per touch row,
summing to exactly 1 within each conversion) registered in :data:`ATTRIBUTION_MODELS`; new models
(Markov, Shapley, time-decay, position-based) plug in by adding an entry.
"""

from collections.abc import Callable, Sequence

import polars as pl

from channels._columns import require_columns

AttributionModel = Callable[[pl.DataFrame], pl.DataFrame]

_JOURNEY_KEYS = ["conversion_id", "channel", "position", "touches", "conversion_value"]


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


ATTRIBUTION_MODELS: dict[str, AttributionModel] = {
    "first_touch": first_touch,
    "last_touch": last_touch,
    "linear": linear,
}
"""Registered attribution models by name (the ``attribution_model`` value in outputs)."""


def assign_credit(journeys: pl.DataFrame, model: str) -> pl.DataFrame:
    """Run the registered model ``model`` over ``journeys``.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.
        model: A key of :data:`ATTRIBUTION_MODELS`.

    Returns:
        ``journeys`` with a Float64 ``credit`` column.
    """
    if model not in ATTRIBUTION_MODELS:
        known = ", ".join(sorted(ATTRIBUTION_MODELS))
        raise ValueError(f"unknown attribution model {model!r}; known models: {known}")
    require_columns(journeys, _JOURNEY_KEYS, "journeys")
    return ATTRIBUTION_MODELS[model](journeys)


def attribute(journeys: pl.DataFrame, model: str) -> pl.DataFrame:
    """Credit conversions and their value to channels with one model.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.
        model: A key of :data:`ATTRIBUTION_MODELS`.

    Returns:
        One row per channel seen in ``journeys`` (including ``"(direct)"`` and channels that earn
        zero credit under this model), sorted by channel: ``channel`` (str),
        ``attribution_model`` (str), ``conversions`` (Float64, sum of credit; fractional for
        linear) and ``revenue`` (Float64, sum of credit × conversion_value; null values count
        as nothing).
    """
    return (
        assign_credit(journeys, model)
        .group_by("channel")
        .agg(
            pl.col("credit").sum().alias("conversions"),
            (pl.col("credit") * pl.col("conversion_value")).sum().alias("revenue"),
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
    journeys: pl.DataFrame, models: Sequence[str] | None = None
) -> pl.DataFrame:
    """Stack :func:`attribute` over several models (all registered ones when None).

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`.
        models: Model names to run; defaults to every key of :data:`ATTRIBUTION_MODELS`.

    Returns:
        One row per channel × model, with the columns of :func:`attribute`.
    """
    names = list(ATTRIBUTION_MODELS) if models is None else list(models)
    return pl.concat([attribute(journeys, name) for name in names])
