import numpy as np
import polars as pl

from segments.scaling import RobustFeatureScaler


def test_only_skewed_non_negative_columns_are_logged():
    rng = np.random.default_rng(0)
    n = 5_000
    frame = pl.DataFrame(
        {
            "amount": rng.lognormal(5, 1.5, n),  # heavy right tail
            "age": rng.normal(35, 8, n),  # symmetric
            "balance": rng.lognormal(5, 1.5, n) - 100,  # skewed but can be negative
        }
    )
    scaler = RobustFeatureScaler().fit(frame, ["amount", "age", "balance"])
    assert scaler.log_columns_ == ["amount"]
    matrix = scaler.transform(frame)
    assert matrix.shape == (n, 3)
    assert matrix.flags["C_CONTIGUOUS"]
    # Centred on the median, in robust units, clipped.
    assert np.allclose(np.median(matrix, axis=0), 0.0, atol=1e-9)
    assert np.abs(matrix).max() <= 5.0
    assert abs(np.subtract(*np.percentile(matrix[:, 1], [75, 25])) - 1.349) < 0.01


def test_nulls_become_the_median_and_mostly_zero_columns_use_std():
    frame = pl.DataFrame(
        {"count": [0.0] * 90 + [5.0] * 10, "score": [None] + [float(i) for i in range(99)]}
    )
    scaler = RobustFeatureScaler(skew_threshold=100.0).fit(frame, ["count", "score"])
    assert scaler.scales_[0] == frame["count"].std()  # IQR is 0
    matrix = scaler.transform(frame)
    assert matrix[0, 1] == 0.0
    assert np.isfinite(matrix).all()
