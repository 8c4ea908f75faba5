"""Time persona clustering at scale: fit on a sample, assign every user (not a test).

Usage: python bench/personas.py [--warehouse data/fingrowth.duckdb] [--users 1000000]

Takes the demo warehouse's behaviour features, resamples them with jitter up to --users rows, and
reports wall time and peak memory of PersonaClusterer.fit (k from 3 to 8 with stability resampling)
and of predicting every row.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import polars as pl

from assets.segmentation import PERSONA_K_VALUES, WINDOW_SQL
from segments.clustering import PersonaClusterer
from segments.features import PERSONA_FEATURES, behaviour_features
from warehouse import connect, read_frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", default="data/fingrowth.duckdb")
    parser.add_argument("--users", type=int, default=1_000_000)
    args = parser.parse_args()
    with connect(args.warehouse, read_only=True) as conn:
        profile = read_frame(conn, "SELECT * FROM marts.user_profile")
        _, history_days = conn.sql(WINDOW_SQL).fetchone()
    base = behaviour_features(profile, int(history_days))
    rng = np.random.default_rng(0)
    picks = rng.integers(0, base.height, args.users)
    features = base[picks].with_columns(
        (pl.col(c).cast(pl.Float64) * pl.Series(rng.normal(1.0, 0.02, args.users))).alias(c) for c in PERSONA_FEATURES
    ).with_columns(pl.format("b{}", pl.int_range(pl.len())).alias("user_id"))
    print(f"{features.height:,} users, {len(PERSONA_FEATURES)} features")
    started = time.perf_counter()
    clusterer = PersonaClusterer(k_values=PERSONA_K_VALUES).fit(features, PERSONA_FEATURES)
    fitted = time.perf_counter()
    labels = clusterer.predict(features)
    done = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fit (sample, k {PERSONA_K_VALUES[0]}-{PERSONA_K_VALUES[-1]}): {fitted - started:.1f} s; chosen k = {clusterer.k_}")
    print(f"assign all {labels.len():,}: {done - fitted:.1f} s; total {done - started:.1f} s; peak RSS {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
