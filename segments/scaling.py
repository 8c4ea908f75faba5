"""Robust feature scaling for clustering heavy-tailed money and count features.

Per column: nulls and NaNs are imputed with the median; a non-negative column whose skewness
exceeds ``skew_threshold`` is log1p-transformed (money and counts are heavy-tailed, and k-means on
raw amounts only separates the few largest spenders); then it is centred on its median, divided by
a robust spread (IQR / 1.349, which equals the standard deviation for normal data; the standard
deviation when the IQR is 0, as for mostly-zero columns; 1 for constant columns) and clipped to
``±clip`` so that the remaining outliers cannot own a cluster.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

_IQR_TO_SIGMA = 1.349


class RobustFeatureScaler:
    """log1p for skewed non-negative columns, then median/IQR scaling and clipping.

    Args:
        skew_threshold: sample skewness above which a non-negative column is log1p-transformed.
        clip: transformed values are clipped to [-clip, clip].
    """

    def __init__(self, skew_threshold: float = 1.0, clip: float = 5.0) -> None:
        self.skew_threshold = skew_threshold
        self.clip = clip

    def fit(self, frame: pl.DataFrame, columns: list[str]) -> RobustFeatureScaler:
        """Learn which columns to log and their centre and spread.

        Args:
            frame: the data; only ``columns`` are read (all must be numeric).
            columns: the feature columns, in the order of the output matrix.

        Returns:
            self, with ``columns_``, ``log_columns_``, ``centers_`` and ``scales_`` set.
        """
        _check_numeric(frame, columns)
        raw = [_clean(c) for c in columns]
        shape = frame.select(
            *[x.min().alias(f"{c}__min") for c, x in zip(columns, raw)],
            *[x.skew().alias(f"{c}__skew") for c, x in zip(columns, raw)],
        ).row(0, named=True)
        log_columns = [
            c
            for c in columns
            if shape[f"{c}__min"] is not None
            and shape[f"{c}__min"] >= 0
            and _finite(shape[f"{c}__skew"])
            and shape[f"{c}__skew"] > self.skew_threshold
        ]
        self.columns_ = list(columns)
        self.log_columns_ = log_columns
        shaped = [self._shape_expr(c) for c in columns]
        stats = frame.select(
            *[x.median().alias(f"{c}__median") for c, x in zip(columns, shaped)],
            *[x.quantile(0.25, "linear").alias(f"{c}__q25") for c, x in zip(columns, shaped)],
            *[x.quantile(0.75, "linear").alias(f"{c}__q75") for c, x in zip(columns, shaped)],
            *[x.std().alias(f"{c}__std") for c, x in zip(columns, shaped)],
        ).row(0, named=True)
        centers, scales = [], []
        for c in columns:
            median = stats[f"{c}__median"]
            centers.append(median if _finite(median) else 0.0)
            iqr = _nan_to_zero(stats[f"{c}__q75"]) - _nan_to_zero(stats[f"{c}__q25"])
            std = _nan_to_zero(stats[f"{c}__std"])
            scales.append(iqr / _IQR_TO_SIGMA if iqr > 0 else std if std > 0 else 1.0)
        self.centers_ = np.asarray(centers, dtype=np.float64)
        self.scales_ = np.asarray(scales, dtype=np.float64)
        return self

    def transform_exprs(self) -> list[pl.Expr]:
        """Expressions producing the scaled, clipped Float64 columns (named like the inputs)."""
        return [
            ((self._shape_expr(c) - center) / scale)
            .fill_null(0.0)  # median imputation: the median maps to 0
            .clip(-self.clip, self.clip)
            .alias(c)
            for c, center, scale in zip(self.columns_, self.centers_, self.scales_)
        ]

    def transform(self, frame: pl.DataFrame) -> np.ndarray:
        """Scale ``frame`` into a C-contiguous float64 matrix, one column per feature."""
        _check_numeric(frame, self.columns_)
        matrix = frame.select(self.transform_exprs()).to_numpy()
        return np.ascontiguousarray(matrix, dtype=np.float64)

    def inverse_transform(self, matrix: np.ndarray) -> pl.DataFrame:
        """Map scaled points (e.g. centroids) back to the original feature units.

        Clipping is not undone: a point at the clip bound maps to the value at the bound.

        Args:
            matrix: rows of scaled values, one column per feature in ``columns_`` order.

        Returns:
            A Float64 frame with one column per feature.
        """
        matrix = np.asarray(matrix, dtype=np.float64)
        shaped = matrix * self.scales_ + self.centers_
        columns = {
            c: np.expm1(shaped[:, j]) if c in self.log_columns_ else shaped[:, j]
            for j, c in enumerate(self.columns_)
        }
        return pl.DataFrame(columns, schema={c: pl.Float64 for c in self.columns_})

    def _shape_expr(self, column: str) -> pl.Expr:
        x = _clean(column)
        if column in self.log_columns_:
            # New data may hold negatives the fit data did not; log1p needs x > -1.
            x = x.clip(lower_bound=0.0).log1p()
        return x


def _clean(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Float64).fill_nan(None)


def _check_numeric(frame: pl.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"feature columns missing from the frame: {missing}")
    wrong = [c for c in columns if not (frame.schema[c].is_numeric() or frame.schema[c] == pl.Boolean)]
    if wrong:
        raise TypeError(f"feature columns must be numeric or boolean, got non-numeric {wrong}")


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _nan_to_zero(value: float | None) -> float:
    return value if _finite(value) else 0.0
