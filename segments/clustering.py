"""Clustering-based personas with an automatic, evidenced choice of the number of clusters.

How ``PersonaClusterer.fit`` works:

1. Features are scaled by :class:`~segments.scaling.RobustFeatureScaler` (log1p on skewed
   non-negative columns, median/IQR scaling, clipping).
2. Rows are put in a canonical order (sorted by their feature values) before a seeded sample of
   ``sample_size`` rows is drawn, so the result does not depend on the input row order.
3. For every k: KMeans on the sample (fixed ``n_init`` and seed); silhouette on a sub-sample of
   ``silhouette_sample_size`` rows; stability = mean adjusted Rand index between the clusterings
   of ``n_resamples`` bootstrap resamples, each KMeans assigning every row of the sample.
4. Choice rule: the highest silhouette among the k whose stability ≥ ``min_stability``; if no k
   is that stable, the most stable k. Ties go to the smaller k.
5. Cluster ids are canonical: 1 is the largest cluster on the fit data, then by descending size,
   ties broken by the centroid coordinates, so ids never depend on KMeans' internal labels.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import polars as pl
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from threadpoolctl import threadpool_limits

from segments.scaling import RobustFeatureScaler


class PersonaClusterer:
    """KMeans personas with k chosen by silhouette and bootstrap stability.

    Args:
        k_values: candidate numbers of clusters.
        sample_size: rows used to fit and score the candidates (all rows if fewer).
        n_resamples: bootstrap resamples per k for the stability score (at least 2).
        random_state: seed for sampling and KMeans.
        min_stability: stability a k needs to be eligible for the silhouette choice.
        silhouette_sample_size: rows the silhouette is computed on (it is quadratic in rows).
        n_init: KMeans restarts per fit.
        skew_threshold: passed to the scaler (log1p above this skewness).
        clip: passed to the scaler (scaled values clipped to ±clip).
        max_threads: native threads KMeans and the distance kernels may use (None = all
            cores). Defaults to 1: on a busy machine (parallel assets, other jobs) OpenMP
            oversubscription made fitting about 7 times slower than one thread.
    """

    def __init__(
        self,
        k_values: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8),
        sample_size: int = 20_000,
        n_resamples: int = 3,
        random_state: int = 0,
        min_stability: float = 0.8,
        silhouette_sample_size: int = 5_000,
        n_init: int = 4,
        skew_threshold: float = 1.0,
        clip: float = 5.0,
        max_threads: int | None = 1,
    ) -> None:
        self.k_values = k_values
        self.sample_size = sample_size
        self.n_resamples = n_resamples
        self.random_state = random_state
        self.min_stability = min_stability
        self.silhouette_sample_size = silhouette_sample_size
        self.n_init = n_init
        self.skew_threshold = skew_threshold
        self.clip = clip
        self.max_threads = max_threads

    def fit(self, features: pl.DataFrame, feature_columns: list[str]) -> PersonaClusterer:
        """Scale, score every candidate k, choose one and fit the final model.

        Args:
            features: one row per user; other columns than ``feature_columns`` are ignored.
            feature_columns: numeric columns to cluster on.

        Returns:
            self, with ``k_``, ``evidence_``, ``model_``, ``scaler_``, ``feature_columns_``,
            ``cluster_centers_`` (scaled units, row i-1 = cluster id i) and ``labels_``
            (pl.Series of cluster ids for the rows of ``features``, in input order).
        """
        with threadpool_limits(limits=self.max_threads):
            return self._fit(features, feature_columns)

    def _fit(self, features: pl.DataFrame, feature_columns: list[str]) -> PersonaClusterer:
        if self.n_resamples < 2:
            raise ValueError("n_resamples must be at least 2 to compare resampled clusterings")
        self.feature_columns_ = list(feature_columns)
        self.scaler_ = RobustFeatureScaler(self.skew_threshold, self.clip).fit(
            features, self.feature_columns_
        )
        sample = self._canonical_sample(features)
        candidates = sorted({k for k in self.k_values if 2 <= k < len(sample)})
        if not candidates:
            raise ValueError(
                f"no candidate k in {self.k_values} fits {len(sample)} rows (need 2 <= k < rows)"
            )

        rows, models = [], {}
        for k in candidates:
            model = self._kmeans(k, self.random_state).fit(sample)
            models[k] = model
            rows.append(
                {
                    "k": k,
                    "silhouette": self._silhouette(sample, model.labels_),
                    "stability": self._stability(sample, k),
                    "inertia": float(model.inertia_),
                }
            )
        evidence = pl.DataFrame(
            rows, schema={"k": pl.Int64, "silhouette": pl.Float64, "stability": pl.Float64,
                          "inertia": pl.Float64}
        )
        self.k_ = choose_k(evidence, self.min_stability)
        self.evidence_ = evidence.with_columns((pl.col("k") == self.k_).alias("chosen"))
        self.model_ = models[self.k_]

        all_rows = self.scaler_.transform(features)
        raw_labels = self.model_.predict(all_rows)
        self._label_map = _canonical_label_map(raw_labels, self.model_.cluster_centers_)
        self.cluster_centers_ = self.model_.cluster_centers_[np.argsort(self._label_map)]
        self.labels_ = self._to_series(raw_labels)
        return self

    def predict(self, features: pl.DataFrame) -> pl.Series:
        """Assign every row to a persona.

        Args:
            features: frame holding the fitted ``feature_columns_``.

        Returns:
            Int64 series ``persona_id`` (1..k_), one per row in input order.
        """
        matrix = self.scaler_.transform(features)
        with threadpool_limits(limits=self.max_threads):
            return self._to_series(self.model_.predict(matrix))

    def _to_series(self, raw_labels: np.ndarray) -> pl.Series:
        return pl.Series("persona_id", self._label_map[raw_labels], dtype=pl.Int64)

    def _kmeans(self, k: int, seed: int) -> KMeans:
        return KMeans(n_clusters=k, n_init=self.n_init, random_state=seed)

    def _canonical_sample(self, features: pl.DataFrame) -> np.ndarray:
        # Sorting by the feature values makes the sample (and KMeans' k-means++ seeding, which
        # depends on row positions) independent of the input row order.
        ordered = features.select(self.feature_columns_).sort(
            self.feature_columns_, nulls_last=True
        )
        matrix = self.scaler_.transform(ordered)
        if len(matrix) <= self.sample_size:
            return matrix
        rng = np.random.default_rng(self.random_state)
        picked = np.sort(rng.choice(len(matrix), size=self.sample_size, replace=False))
        return matrix[picked]

    def _silhouette(self, sample: np.ndarray, labels: np.ndarray) -> float:
        if len(np.unique(labels)) < 2:
            return -1.0
        size = min(self.silhouette_sample_size, len(sample))
        return float(
            silhouette_score(sample, labels, sample_size=size, random_state=self.random_state)
        )

    def _stability(self, sample: np.ndarray, k: int) -> float:
        rng = np.random.default_rng([self.random_state, k])
        assignments = []
        for r in range(self.n_resamples):
            boot = sample[rng.integers(0, len(sample), size=len(sample))]
            model = self._kmeans(k, self.random_state + 1 + r).fit(boot)
            assignments.append(model.predict(sample))
        return float(
            np.mean([adjusted_rand_score(a, b) for a, b in combinations(assignments, 2)])
        )


def choose_k(evidence: pl.DataFrame, min_stability: float) -> int:
    """Pick k: best silhouette among k with stability ≥ ``min_stability``, else the most stable.

    Args:
        evidence: one row per candidate with ``k``, ``silhouette`` and ``stability``.
        min_stability: eligibility threshold on stability.

    Returns:
        The chosen k (ties go to the smaller k).
    """
    eligible = evidence.filter(pl.col("stability") >= min_stability)
    if eligible.height:
        best = eligible.sort(["silhouette", "k"], descending=[True, False])
    else:
        best = evidence.sort(["stability", "k"], descending=[True, False])
    return int(best["k"][0])


def _canonical_label_map(raw_labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Map KMeans labels to ids 1..k by descending size, ties by centroid coordinates."""
    k = len(centers)
    sizes = np.bincount(raw_labels, minlength=k)
    # np.lexsort sorts by the last key first: size (descending), then centroid coordinates.
    order = np.lexsort(tuple(centers[:, j] for j in reversed(range(centers.shape[1]))) + (-sizes,))
    label_map = np.empty(k, dtype=np.int64)
    label_map[order] = np.arange(1, k + 1)
    return label_map
