"""Markov-chain attribution with exact removal effects.

The chain (order k, first order by default):

- A state is a window of ``k`` consecutive touches of a path (the whole path when it is shorter
  than ``k``; for ``k = 1`` the channel itself). Consecutive equal states are merged: a self-loop
  changes neither where a walk is absorbed nor with what probability, so dropping it changes no
  removal effect.
- Every path, converting or not, starts in ``(start)`` and ends in ``(conversion)`` or
  ``(null)``. Each path adds one to every transition it makes; transition probabilities are the
  counts divided by the row total. Non-converting paths (see
  :func:`channels.journeys.build_non_converting_paths`: users without a conversion and anonymous
  visitors no event tied to a user, each keyed by whichever id is known) are what give ``(null)`` its
  weight; without them every walk that is not cut short converts.
- Conversions without any touch (the ``(direct)`` journeys) are kept out of the chain and credited
  to ``(direct)`` whole, as every other model does: a state that always converts would otherwise
  take credit from real channels in proportion to nothing they did.

Removal effect of channel ``c``: ``RE(c) = 1 - P(conversion | every state containing c leads to
null) / P(conversion)``, i.e. the share of conversion probability that flows through ``c``. Both
probabilities are solved exactly as absorption probabilities of the absorbing chain,
``(I - Q) x = r`` (``Q``: transitions among transient states, ``r``: one-step probability of
converting), with a sparse LU factorisation — no simulation.

Allocation (the one ChannelAttribution uses): conversions are allocated globally, channel ``c``
getting ``RE(c) / sum(RE) * N`` where ``N`` is the number of converting journeys in the chain.
Removal effects overlap (a journey through three channels counts in all three), so this is not
the same as sharing each journey among its own channels; a channel's total is therefore not a sum
of per-journey credits.

Value: like ChannelAttribution, the value of a conversion is modelled by the state it converts
from. The chain is solved a second time with reward ``value converted from the state / row total``
instead of the conversion probability, which gives the expected converted value and, by removal,
value removal effects; revenue is allocated globally in proportion to those. A null value counts
as zero.
"""

import numpy as np
import polars as pl
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from channels._columns import require_columns
from channels.journeys import DIRECT_CHANNEL

MARKOV_COLUMNS = ["channel", "removal_effect", "value_removal_effect", "conversions", "revenue"]

_INT64_LIMIT = 2**62


def markov_removal_effects(
    journeys: pl.DataFrame,
    non_converting: pl.DataFrame | None = None,
    order: int = 1,
) -> pl.DataFrame:
    """Exact removal effects and the conversions and revenue they allocate, per channel.

    Args:
        journeys: Output of :func:`channels.journeys.build_journeys` (converting journeys).
        non_converting: Output of :func:`channels.journeys.build_non_converting_paths`, or None
            when there are none (every path in the chain then converts unless it is removed).
        order: Markov order ``k`` (>= 1): how many consecutive touches make one state.

    Returns:
        One row per channel of ``journeys`` (``(direct)`` included when present), sorted by
        channel: ``channel`` (str), ``removal_effect`` and ``value_removal_effect`` (Float64; null
        for ``(direct)``, which is outside the chain), ``conversions`` and ``revenue`` (Float64).
        ``conversions`` sums to the number of conversions, ``revenue`` to their total value.
    """
    require_columns(journeys, ["conversion_id", "channel", "position", "conversion_value"], "journeys")
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")

    converting = journeys.filter(pl.col("channel") != DIRECT_CHANNEL)
    direct = journeys.filter(pl.col("channel") == DIRECT_CHANNEL)
    frames = [_chain_rows(converting, "conversion_id", converted=True)]
    if non_converting is not None and not non_converting.is_empty():
        require_columns(non_converting, ["path_id", "channel", "position"], "non_converting")
        frames.append(_chain_rows(non_converting, "path_id", converted=False))
    paths = pl.concat(frames).with_columns(
        (pl.col("position") == 1).cum_sum().cast(pl.Int64).alias("_path")
    )
    # Non-converting paths may touch channels no converting journey has; they still shape the chain.
    channels = sorted(paths["channel"].unique().to_list())
    per_conversion = converting.unique("conversion_id")
    chain_conversions = float(per_conversion.height)
    chain_value = float(per_conversion["conversion_value"].cast(pl.Float64).fill_null(0.0).sum())

    effects = _removal_effects(paths, channels, order)
    result = effects.with_columns(
        _share("removal_effect", chain_conversions).alias("conversions"),
        _share("value_removal_effect", chain_value).alias("revenue"),
    )
    converting_channels = set(converting["channel"].unique().to_list())
    result = result.filter(pl.col("channel").is_in(list(converting_channels)))
    if not direct.is_empty():
        result = pl.concat(
            [
                result,
                pl.DataFrame(
                    {
                        "channel": [DIRECT_CHANNEL],
                        "removal_effect": [None],
                        "value_removal_effect": [None],
                        "conversions": [float(direct.select(pl.col("conversion_id").n_unique()).item())],
                        "revenue": [direct["conversion_value"].cast(pl.Float64).sum()],
                    },
                    schema={name: result.schema[name] for name in MARKOV_COLUMNS},
                ),
            ]
        )
    return result.select(MARKOV_COLUMNS).sort("channel")


def _share(column: str, total: float) -> pl.Expr:
    """``column / sum(column) * total``; zero everywhere when nothing has an effect."""
    denominator = pl.col(column).sum()
    return pl.when(denominator > 0).then(pl.col(column) / denominator * total).otherwise(0.0)


def _chain_rows(frame: pl.DataFrame, key: str, *, converted: bool) -> pl.DataFrame:
    """The rows of one kind of path, in path then position order.

    Both builders already return that order, and then a path starts exactly where
    ``position == 1``: path numbers become a running sum instead of a hash over tens of millions of
    rows. A frame in any other order is sorted first.
    """
    starts = (pl.col(key) != pl.col(key).shift(1)).fill_null(True) & (pl.col("position") == 1)
    follows = (pl.col(key) == pl.col(key).shift(1)) & (pl.col("position") == pl.col("position").shift(1) + 1)
    in_order = (starts | follows.fill_null(False)).fill_null(False)
    if not frame.select(in_order.all()).item():
        frame = frame.sort([key, "position"])
    value = pl.col("conversion_value").cast(pl.Float64).fill_null(0.0) if converted else pl.lit(0.0)
    return frame.select(
        pl.col("position").cast(pl.Int32),
        pl.col("channel").cast(pl.String),
        pl.lit(converted).alias("_converted"),
        value.alias("_value"),
    )


def _state_keys(paths: pl.DataFrame, n_channels: int, order: int) -> pl.DataFrame:
    """Give each row the integer key of the order-``k`` state starting at it (null: no state).

    The key packs the window's channel codes in base ``n_channels + 1`` (0 = no channel), so a
    state is decoded back to its channels without a lookup table.
    """
    code = pl.col("_code").cast(pl.Int64) + 1
    if order == 1:
        return paths.with_columns(code.alias("_state"))
    base = n_channels + 1
    if base**order >= _INT64_LIMIT:
        raise ValueError(f"order {order} with {n_channels} channels does not fit an integer state key")
    length = pl.col("_touches")
    key = pl.lit(0, dtype=pl.Int64)
    for offset in range(order):
        inside = pl.col("position") + offset <= length
        key = key + pl.when(inside).then(code.shift(-offset) * base**offset).otherwise(0)
    # A window starts at every position that leaves room for k touches; shorter paths are one state.
    starts = (pl.col("position") + order - 1 <= length) | ((pl.col("position") == 1) & (length < order))
    return paths.with_columns(pl.when(starts).then(key).otherwise(None).alias("_state"))


def _removal_effects(paths: pl.DataFrame, channels: list[str], order: int) -> pl.DataFrame:
    """Build the absorbing chain from ``paths`` and solve it with each channel removed in turn."""
    n_channels = len(channels)
    schema = {"channel": pl.String, "removal_effect": pl.Float64, "value_removal_effect": pl.Float64}
    if paths.is_empty():
        return pl.DataFrame(schema=schema)
    coded = paths.with_columns(pl.col("channel").cast(pl.Enum(channels)).to_physical().alias("_code"))
    if order > 1:
        coded = coded.with_columns(pl.len().over("_path").cast(pl.Int32).alias("_touches"))
    states = _state_keys(coded, n_channels, order).filter(pl.col("_state").is_not_null())
    # Merge runs of one state; the first row of a path always stays.
    states = states.filter(
        (pl.col("_path") != pl.col("_path").shift(1)).fill_null(True)
        | (pl.col("_state") != pl.col("_state").shift(1))
    ).select("_path", "_state", "_converted", "_value")

    state_keys = states.select(pl.col("_state").unique().sort())["_state"].to_numpy()
    n_states = len(state_keys)
    start = n_states
    indexed = states.with_columns(
        pl.col("_state").replace_strict(state_keys, np.arange(n_states), return_dtype=pl.Int64).alias("_to"),
    ).with_columns(
        pl.when(pl.col("_path") == pl.col("_path").shift(1))
        .then(pl.col("_to").shift(1))
        .otherwise(start)
        .alias("_from"),
        (pl.col("_path") != pl.col("_path").shift(-1)).fill_null(True).alias("_last"),
    )

    moves = indexed.group_by("_from", "_to").agg(pl.len().alias("n"))
    ends = (
        indexed.filter(pl.col("_last"))
        .group_by("_to")
        .agg(
            pl.col("_converted").sum().alias("converted"),
            (~pl.col("_converted")).sum().alias("lost"),
            pl.col("_value").filter(pl.col("_converted")).sum().alias("value"),
        )
    )

    size = n_states + 1
    counts = sp.csr_matrix(
        (moves["n"].to_numpy().astype(float), (moves["_from"].to_numpy(), moves["_to"].to_numpy())),
        shape=(size, size),
    )
    converted = np.zeros(size)
    lost = np.zeros(size)
    value = np.zeros(size)
    end_states = ends["_to"].to_numpy()
    converted[end_states] = ends["converted"].to_numpy()
    lost[end_states] = ends["lost"].to_numpy()
    value[end_states] = ends["value"].to_numpy()

    totals = np.asarray(counts.sum(axis=1)).ravel() + converted + lost
    scale = np.divide(1.0, totals, out=np.zeros(size), where=totals > 0)
    transient = sp.diags(scale) @ counts
    rewards = np.column_stack([converted * scale, value * scale])
    system = (sp.identity(size, format="csr") - transient).tocsc()

    base = _absorbed_from_start(system, rewards, np.arange(size), start)
    members = _state_channels(state_keys, n_channels, order)
    rows = []
    for code, channel in enumerate(channels):
        keep = np.flatnonzero(np.append(~members[:, code], True))
        removed = _absorbed_from_start(system, rewards, keep, start)
        effect = np.divide(base - removed, base, out=np.zeros(2), where=base > 0)
        rows.append((channel, float(effect[0]), float(effect[1])))
    return pl.DataFrame(rows, schema=schema, orient="row")


def _absorbed_from_start(system: sp.csc_matrix, rewards: np.ndarray, keep: np.ndarray, start: int) -> np.ndarray:
    """Expected (conversions, value) absorbed from ``(start)`` in the chain restricted to ``keep``.

    Dropping a state's row and column sends every transition into it nowhere, i.e. to ``(null)``.
    """
    restricted = system[keep][:, keep].tocsc()
    solution = spla.splu(restricted).solve(rewards[keep])
    position = int(np.searchsorted(keep, start))
    return solution[position]


def _state_channels(state_keys: np.ndarray, n_channels: int, order: int) -> np.ndarray:
    """Boolean matrix: state × channel code, True where the state's window contains the channel."""
    members = np.zeros((len(state_keys), n_channels), dtype=bool)
    base = n_channels + 1
    remaining = state_keys.astype(np.int64).copy()
    for _ in range(order):
        digit = remaining % base
        present = digit > 0
        members[np.flatnonzero(present), digit[present] - 1] = True
        remaining //= base
    return members
