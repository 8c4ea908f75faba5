"""Input checks and duplicate-row grouping shared by the value models."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_float_array(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``values`` as a 1-d float64 array, rejecting NaN and infinities."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def check_rfm(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Validate and broadcast BG/NBD inputs (frequency, recency, T)."""
    x = as_float_array(frequency, "frequency")
    t_x = as_float_array(recency, "recency")
    t_cal = as_float_array(T, "T")
    x, t_x, t_cal = np.broadcast_arrays(x, t_x, t_cal)
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise ValueError("frequency must hold non-negative whole numbers")
    if np.any(t_x < 0):
        raise ValueError("recency must be non-negative")
    # A small tolerance absorbs rounding of recency and T to display precision.
    if np.any(t_x > t_cal + 1e-9):
        raise ValueError("recency must not exceed T")
    return x.astype(np.float64), t_x.astype(np.float64), t_cal.astype(np.float64)


def group_identical_rows(*columns: NDArray[np.float64]) -> tuple[list[NDArray[np.float64]], NDArray[np.float64]]:
    """Collapse identical rows across ``columns`` into unique rows with counts.

    The likelihoods are sums over customers, so customers sharing the same
    summary statistics contribute identical terms; evaluating each distinct row
    once with a weight makes fitting on millions of customers cheap.
    """
    order = np.lexsort(columns[::-1])
    sorted_columns = [column[order] for column in columns]
    is_new = np.ones(order.size, dtype=bool)
    if order.size > 1:
        is_new[1:] = np.logical_or.reduce([np.diff(column) != 0 for column in sorted_columns])
    starts = np.flatnonzero(is_new)
    counts = np.diff(np.append(starts, order.size)).astype(np.float64)
    return [column[starts] for column in sorted_columns], counts


def unique_rows(*columns: NDArray[np.float64]) -> tuple[list[NDArray[np.float64]], NDArray[np.intp]]:
    """Distinct rows across ``columns`` and, for every input row, the index of its distinct row.

    Used where a costly term depends on a subset of a customer's statistics (for example the
    Pareto/NBD hypergeometric term on (frequency, time) pairs): evaluating it once per distinct
    pair and gathering is much cheaper than once per customer.
    """
    order = np.lexsort(columns[::-1])
    sorted_columns = [column[order] for column in columns]
    is_new = np.ones(order.size, dtype=bool)
    if order.size > 1:
        is_new[1:] = np.logical_or.reduce([np.diff(column) != 0 for column in sorted_columns])
    inverse = np.empty(order.size, dtype=np.intp)
    inverse[order] = np.cumsum(is_new) - 1
    return [column[is_new] for column in sorted_columns], inverse
