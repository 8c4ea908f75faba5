"""Persona identity across runs: match a new clustering's centroids to the previous personas.

Centroids are stored in the original feature units (the scaled centroid mapped back through the
scaler that produced it), because every run fits its own scaler: a stored scaled centroid would be
in units that no longer exist. A new run maps the previous centroids through its own scaler, so
old and new centroids are compared in the same robust units.

Matching is a minimum-cost assignment (Hungarian, ``scipy.optimize.linear_sum_assignment``) on the
root-mean-square distance per feature between centroids. A pair farther apart than
``max_distance`` is not a match: that new cluster gets a fresh id and that previous persona is
reported gone. Fresh ids continue after the largest id ever issued, so an id never comes back with
another meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

from segments.scaling import RobustFeatureScaler

CENTROID_SCHEMA = {"persona_id": pl.Int64, "feature": pl.Utf8, "value": pl.Float64,
                   "scaled_value": pl.Float64}
MATCH_SCHEMA = {"persona_id": pl.Int64, "status": pl.Utf8, "distance": pl.Float64}


@dataclass(frozen=True)
class PersonaMatch:
    """The outcome of matching new clusters to previous personas.

    Attributes:
        ids: persona id of each new cluster (position i = cluster id i + 1).
        changes: one row per persona of either run: ``persona_id``, ``status`` ("kept", "new"
            or "gone") and ``distance`` (RMS distance to the matched centroid; null when none).
    """

    ids: np.ndarray
    changes: pl.DataFrame

    def kept(self) -> dict[int, int]:
        """Kept persona id -> position of its new cluster."""
        kept = set(self.changes.filter(pl.col("status") == "kept")["persona_id"].to_list())
        return {int(pid): i for i, pid in enumerate(self.ids) if int(pid) in kept}


def centroid_table(scaler: RobustFeatureScaler, centers: np.ndarray, ids: np.ndarray) -> pl.DataFrame:
    """Long table of centroids: one row per persona × feature, original and scaled units.

    Args:
        scaler: the fitted scaler the centroids are expressed in.
        centers: scaled centroids, one row per cluster.
        ids: persona id of each row of ``centers``.
    """
    original = scaler.inverse_transform(centers)
    rows = [
        {"persona_id": int(pid), "feature": c, "value": float(original[c][i]),
         "scaled_value": float(centers[i, j])}
        for i, pid in enumerate(ids)
        for j, c in enumerate(scaler.columns_)
    ]
    return pl.DataFrame(rows, schema=CENTROID_SCHEMA)


def match_personas(
    previous: pl.DataFrame | None,
    centers: np.ndarray,
    scaler: RobustFeatureScaler,
    max_distance: float = 1.0,
    next_id: int | None = None,
) -> PersonaMatch:
    """Give each new cluster the id of the previous persona it matches, or a fresh id.

    Args:
        previous: the previous run's centroid table (``persona_id``, ``feature``, ``value``), or
            None / empty on a first run.
        centers: the new scaled centroids, one row per cluster, in ``scaler``'s units.
        scaler: the new run's fitted scaler.
        max_distance: largest RMS distance per feature (robust standard deviations) of a match.
        next_id: first fresh id; one more than the largest previous id when None.

    Returns:
        The ids of the new clusters and the kept / new / gone table.
    """
    centers = np.asarray(centers, dtype=np.float64)
    k = len(centers)
    previous_ids, previous_scaled = _previous_points(previous, scaler)
    if next_id is None:
        next_id = int(previous_ids.max()) + 1 if len(previous_ids) else 1

    ids = np.zeros(k, dtype=np.int64)
    distance_of = np.full(k, np.nan)
    matched_previous: set[int] = set()
    if previous_scaled is not None and len(previous_ids):
        diff = centers[:, None, :] - previous_scaled[None, :, :]
        cost = np.sqrt((diff**2).mean(axis=2))
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols):
            if cost[r, c] <= max_distance:
                ids[r] = previous_ids[c]
                distance_of[r] = cost[r, c]
                matched_previous.add(int(previous_ids[c]))
    fresh = next_id
    for i in range(k):
        if ids[i] == 0:
            ids[i] = fresh
            fresh += 1

    rows_out = [
        {"persona_id": int(ids[i]),
         "status": "new" if np.isnan(distance_of[i]) else "kept",
         "distance": None if np.isnan(distance_of[i]) else round(float(distance_of[i]), 6)}
        for i in range(k)
    ]
    rows_out += [
        {"persona_id": int(pid), "status": "gone", "distance": None}
        for pid in sorted(int(p) for p in previous_ids)
        if pid not in matched_previous
    ]
    changes = pl.DataFrame(rows_out, schema=MATCH_SCHEMA).sort("persona_id")
    return PersonaMatch(ids=ids, changes=changes)


def _previous_points(
    previous: pl.DataFrame | None, scaler: RobustFeatureScaler
) -> tuple[np.ndarray, np.ndarray | None]:
    if previous is None or previous.is_empty():
        return np.zeros(0, dtype=np.int64), None
    wide = previous.pivot(on="feature", index="persona_id", values="value").sort("persona_id")
    ids = wide["persona_id"].to_numpy().astype(np.int64)
    if set(scaler.columns_) - set(wide.columns):
        # Personas described by other features cannot be compared: every old one is gone.
        return ids, None
    return ids, scaler.transform(wide)
