import numpy as np
import polars as pl
import pytest

from segments.clustering import PersonaClusterer
from segments.features import PERSONA_FEATURES, behaviour_features
from segments.persona_identity import centroid_table, match_personas
from tests.segments.conftest import FEATURES, make_users


def test_inverse_transform_maps_scaled_rows_back_to_original_units(users, fitted):
    sample = users.head(50)
    back = fitted.scaler_.inverse_transform(fitted.scaler_.transform(sample))
    inside = fitted.scaler_.transform(sample)
    unclipped = np.abs(inside) < fitted.clip
    for j, column in enumerate(FEATURES):
        original = sample[column].cast(pl.Float64).to_numpy()
        assert np.allclose(back[column].to_numpy()[unclipped[:, j]], original[unclipped[:, j]], rtol=1e-9)


def test_same_clustering_keeps_every_id(fitted):
    ids = np.arange(1, fitted.k_ + 1)
    previous = centroid_table(fitted.scaler_, fitted.cluster_centers_, ids)
    match = match_personas(previous, fitted.cluster_centers_, fitted.scaler_)
    assert match.ids.tolist() == ids.tolist()
    assert set(match.changes["status"]) == {"kept"}
    assert match.changes["distance"].max() < 1e-9


def test_a_new_sample_matches_old_personas_even_when_sizes_reorder_them(fitted):
    # Fresh users with persona 0 shrunk: canonical (size) order changes, identity must not.
    fresh = make_users(users_per_persona=2_000, seed=9)
    fresh = pl.concat([fresh.filter(pl.col("truth") != 0), fresh.filter(pl.col("truth") == 0).head(300)])
    model = PersonaClusterer(k_values=(4,)).fit(fresh, FEATURES)
    previous = centroid_table(fitted.scaler_, fitted.cluster_centers_, np.array([11, 12, 13, 14]))
    match = match_personas(previous, model.cluster_centers_, model.scaler_)
    assert sorted(match.ids.tolist()) == [11, 12, 13, 14]
    old_truth = _truth_by_id(make_users(2_000, 1), fitted.labels_, [11, 12, 13, 14])
    new_truth = _truth_by_id(fresh, model.labels_, match.ids.tolist())
    assert new_truth == old_truth


def _truth_by_id(users, labels, ids):
    frame = users.with_columns(pl.Series(np.asarray(ids)[labels.to_numpy() - 1]).alias("pid"))
    return dict(frame.group_by("pid").agg(pl.col("truth").mode().first()).iter_rows())


def test_unmatched_clusters_get_fresh_ids_and_old_ones_are_gone(fitted):
    previous = centroid_table(fitted.scaler_, fitted.cluster_centers_[:3], np.array([1, 2, 7]))
    far = fitted.cluster_centers_[[0, 3]].copy()
    far[1] += 4.0  # a cluster nowhere near any previous persona
    match = match_personas(previous, far, fitted.scaler_, max_distance=1.0, next_id=9)
    assert match.ids.tolist() == [1, 9]
    assert match.changes.rows() == [(1, "kept", 0.0), (2, "gone", None), (7, "gone", None), (9, "new", None)]


def test_first_run_and_changed_features_start_fresh(fitted):
    first = match_personas(None, fitted.cluster_centers_, fitted.scaler_)
    assert first.ids.tolist() == list(range(1, fitted.k_ + 1))
    assert set(first.changes["status"]) == {"new"}
    other = pl.DataFrame({"persona_id": [4], "feature": ["unrelated"], "value": [1.0]})
    changed = match_personas(other, fitted.cluster_centers_, fitted.scaler_)
    assert changed.ids.tolist() == [5, 6, 7, 8]
    assert changed.changes.filter(pl.col("status") == "gone")["persona_id"].to_list() == [4]


def test_behaviour_features_are_rates_mixes_and_tickets():
    profile = pl.DataFrame({
        "user_id": ["old", "new", "none"],
        "txn_count": [10, 2, 0],
        "credit_txn_count": [5, 0, 0],
        "wealth_txn_count": [0, 1, 0],
        "payment_txn_count": [5, 1, 0],
        "credit_amount": [5000.0, 0.0, 0.0],
        "monetary_avg": [520.0, 300.0, None],
        "age": [30, None, 40],
        "tenure_days": [400, 9, 50],
        "recency_days": [50, 0, None],
    })
    f = behaviour_features(profile, history_days=100)
    assert f.columns == ["user_id", *PERSONA_FEATURES]
    row = {r["user_id"]: r for r in f.iter_rows(named=True)}
    # Observation starts with the data (100 days) or at signup (10 days including the signup day).
    assert row["old"]["txn_per_day"] == pytest.approx(0.1) and row["new"]["txn_per_day"] == pytest.approx(0.2)
    assert (row["old"]["credit_share"], row["old"]["payment_share"]) == (0.5, 0.5)
    assert row["old"]["credit_ticket"] == 1000.0 and row["new"]["credit_ticket"] is None
    assert row["old"]["idle_share"] == pytest.approx(0.5) and row["none"]["idle_share"] == 1.0
    assert row["none"]["monetary_avg"] == 0.0 and row["none"]["wealth_share"] == 0.0
    with pytest.raises(ValueError, match="missing columns"):
        behaviour_features(profile.drop("age"), 100)
