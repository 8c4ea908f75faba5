"""A plain clustering of profile-style features recovers the planted types."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from sampledata import SampleDataSummary
from tests.sampledata.sampledata_readers import read_events, read_transactions

LINES = ("credit", "wealth", "payment", "other")


def profile_features(summary: SampleDataSummary) -> pl.DataFrame:
    """Per user: count and mean amount per product line, recency in days, events per active day."""
    txns = read_transactions(summary.out_dir).filter(pl.col("status") == "completed").with_columns(
        pl.col("amount").cast(pl.Float64),
        pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%z"),
    )
    end = txns["occurred_at"].max()
    per_line = [
        agg
        for line in LINES
        for agg in (
            (pl.col("product_line") == line).sum().alias(f"{line}_count"),
            pl.col("amount").filter(pl.col("product_line") == line).mean().alias(f"{line}_mean"),
        )
    ]
    buying = txns.group_by("user_id").agg(
        *per_line, (pl.lit(end) - pl.col("occurred_at").max()).dt.total_days().alias("recency_days")
    )
    events = read_events(summary.out_dir).filter(pl.col("user_id").is_not_null())
    activity = events.group_by("user_id").agg(
        (pl.len() / pl.col("occurred_at").str.slice(0, 10).n_unique()).alias("events_per_day")
    )
    truth = pl.read_csv(summary.truth_path)
    window_days = 180
    return (
        truth.join(buying, on="user_id", how="left")
        .join(activity, on="user_id", how="left")
        .with_columns(pl.col("recency_days").fill_null(window_days + 30))
        .fill_null(0)
    )


def test_kmeans_on_profile_features_recovers_planted_types(clean_landing: SampleDataSummary) -> None:
    features = profile_features(clean_landing)
    columns = [c for c in features.columns if c not in ("user_id", "planted_type")]
    x = StandardScaler().fit_transform(np.log1p(features.select(columns).to_numpy().astype(float)))
    labels = KMeans(n_clusters=5, n_init=10, random_state=0).fit_predict(x)
    assert adjusted_rand_score(features["planted_type"], labels) >= 0.8
