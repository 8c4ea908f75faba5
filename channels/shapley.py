"""Shapley values of the attribution game computed from the definition, to check the closed form.

The game: players are channels, ``v(S)`` = conversions (or their value) of journeys whose channels
all lie in ``S``. :func:`channels.attribution.shapley` uses the closed form of Zhao et al. (2018);
this module enumerates every coalition, so it is exponential in the number of channels and meant
for verification and small channel sets only.
"""

from math import factorial

import numpy as np
import polars as pl

from channels._columns import require_columns

MAX_EXACT_CHANNELS = 16


def exact_shapley(journeys: pl.DataFrame) -> pl.DataFrame:
    """Shapley value of every channel, by enumerating all ``2**n`` coalitions.

    ``phi(i) = sum over S not containing i of |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S))``, with
    ``v`` tabulated over every subset by a subset-sum (zeta) transform of the journeys' exact
    channel sets.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys`, with at most
            :data:`MAX_EXACT_CHANNELS` distinct channels.

    Returns:
        One row per channel, sorted: ``channel`` (str), ``conversions`` and ``revenue`` (Float64,
        the Shapley values of the conversion-count and conversion-value games; null values count
        as zero).
    """
    require_columns(journeys, ["conversion_id", "channel", "conversion_value"], "journeys")
    channels = sorted(journeys["channel"].unique().to_list())
    n = len(channels)
    if n > MAX_EXACT_CHANNELS:
        raise ValueError(f"exact Shapley enumerates 2**n coalitions; {n} channels is more than {MAX_EXACT_CHANNELS}")
    code = {channel: bit for bit, channel in enumerate(channels)}
    per_journey = (
        journeys.with_columns(
            pl.col("channel").replace_strict(code, return_dtype=pl.Int64).alias("_bit")
        )
        .group_by("conversion_id")
        .agg(
            pl.lit(2, dtype=pl.Int64).pow(pl.col("_bit").unique()).sum().alias("_mask"),
            pl.col("conversion_value").cast(pl.Float64).fill_null(0.0).first().alias("_value"),
        )
    )
    size = 1 << n
    masks = per_journey["_mask"].to_numpy().astype(np.int64)
    games = np.zeros((2, size))
    np.add.at(games[0], masks, 1.0)
    np.add.at(games[1], masks, per_journey["_value"].to_numpy())
    # Zeta transform: v(S) = sum of the exact-set totals of every subset of S.
    for bit in range(n):
        with_bit = np.flatnonzero(np.arange(size) & (1 << bit))
        games[:, with_bit] += games[:, with_bit ^ (1 << bit)]

    subsets = np.arange(size)
    sizes = np.array([s.bit_count() for s in range(size)])
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) if s < n else 0.0 for s in range(n + 1)])
    values = np.zeros((2, n))
    for bit in range(n):
        without = subsets[(subsets & (1 << bit)) == 0]
        marginal = games[:, without | (1 << bit)] - games[:, without]
        values[:, bit] = marginal @ weight[sizes[without]]
    return pl.DataFrame(
        {"channel": channels, "conversions": values[0], "revenue": values[1]},
        schema={"channel": pl.String, "conversions": pl.Float64, "revenue": pl.Float64},
    )
