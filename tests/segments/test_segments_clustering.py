import time

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from segments.clustering import PersonaClusterer, choose_k
from segments.personas import describe_personas
from tests.segments.conftest import FEATURES, make_users


def test_recovers_the_four_planted_personas(users, fitted):
    assert fitted.k_ == 4
    assert adjusted_rand_score(users["truth"], fitted.labels_) >= 0.95
    assert sorted(fitted.labels_.unique().to_list()) == [1, 2, 3, 4]


def test_evidence_shows_every_candidate_and_the_choice(fitted):
    ev = fitted.evidence_
    assert ev.schema == pl.Schema(
        {"k": pl.Int64, "silhouette": pl.Float64, "stability": pl.Float64,
         "inertia": pl.Float64, "chosen": pl.Boolean}
    )
    assert ev["k"].to_list() == [2, 3, 4, 5, 6, 7, 8]
    assert ev.filter("chosen")["k"].to_list() == [4]
    assert ev.filter(pl.col("k") == 4)["stability"].item() >= 0.8
    assert ev["silhouette"].is_between(-1, 1).all()
    # More clusters never fit worse on the same sample (up to KMeans' local optima).
    assert ev["inertia"][0] > ev["inertia"][-1]


def test_ids_are_ordered_by_descending_size():
    users = make_users(users_per_persona=600, seed=3)
    # Make the planted persona sizes distinct: keep 600, 450, 300 and 150 users.
    sized = pl.concat(
        [users.filter(pl.col("truth") == t).head(600 - 150 * t) for t in range(4)]
    )
    model = PersonaClusterer(k_values=(4,), random_state=5).fit(sized, FEATURES)
    sizes = model.labels_.value_counts().sort("persona_id")["count"].to_list()
    assert sizes == sorted(sizes, reverse=True)
    majority = (
        sized.with_columns(model.labels_)
        .group_by("persona_id")
        .agg(pl.col("truth").mode().first())
        .sort("persona_id")["truth"]
        .to_list()
    )
    assert majority == [0, 1, 2, 3]


def test_two_fits_give_identical_ids_evidence_and_names(users, fitted):
    again = PersonaClusterer().fit(users, FEATURES)
    assert again.labels_.equals(fitted.labels_)
    assert again.evidence_.equals(fitted.evidence_)
    names_a = describe_personas(users, fitted.labels_, FEATURES)
    names_b = describe_personas(users, again.labels_, FEATURES)
    assert names_a.equals(names_b)


def test_row_order_does_not_change_personas(users, fitted):
    shuffled = users.sample(fraction=1.0, shuffle=True, seed=11)
    model = PersonaClusterer().fit(shuffled, FEATURES)
    assert model.k_ == fitted.k_
    original = users.select("user_id", fitted.labels_.alias("a"))
    moved = shuffled.select("user_id", model.labels_.alias("b"))
    joined = original.join(moved, on="user_id")
    assert joined.height == users.height
    assert (joined["a"] == joined["b"]).all()
    names = describe_personas(users, fitted.labels_, FEATURES)
    names_shuffled = describe_personas(shuffled, model.labels_, FEATURES)
    assert names.equals(names_shuffled)


def test_predict_matches_fit_labels_and_is_order_preserving(users, fitted):
    assert fitted.predict(users).equals(fitted.labels_)
    reversed_users = users.reverse()
    assert fitted.predict(reversed_users).equals(fitted.labels_.reverse())


def test_predict_handles_nulls_and_unseen_extremes(fitted):
    odd = pl.DataFrame(
        {
            "credit_txn_count": [None, 10_000],
            "wealth_amount": [-5.0, 1e12],
            "payment_txn_count": [0, None],
            "age": [None, 200.0],
            "total_amount": [float("nan"), 0.0],
            "city_tier": [1, None],
        }
    )
    ids = fitted.predict(odd)
    assert ids.dtype == pl.Int64
    assert ids.null_count() == 0
    assert ids.is_between(1, fitted.k_).all()


def test_predict_one_million_rows(fitted):
    big = make_users(users_per_persona=250_000, seed=2)
    start = time.perf_counter()
    ids = fitted.predict(big)
    elapsed = time.perf_counter() - start
    print(f"\npredict on {big.height:,} rows: {elapsed:.2f} s")
    assert ids.len() == 1_000_000
    assert adjusted_rand_score(big["truth"], ids) >= 0.95


def test_choose_k_prefers_silhouette_among_stable_candidates():
    evidence = pl.DataFrame(
        {"k": [2, 3, 4, 5], "silhouette": [0.6, 0.5, 0.7, 0.9], "stability": [0.95, 0.9, 0.85, 0.5]}
    )
    assert choose_k(evidence, min_stability=0.8) == 4
    # Nothing stable enough: the most stable k.
    assert choose_k(evidence, min_stability=0.99) == 2


def test_rejects_impossible_candidates():
    tiny = pl.DataFrame({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="candidate k"):
        PersonaClusterer(k_values=(5, 6)).fit(tiny, ["x"])
    with pytest.raises(ValueError, match="n_resamples"):
        PersonaClusterer(n_resamples=1).fit(tiny, ["x"])


def test_non_numeric_feature_is_rejected(users):
    with pytest.raises(TypeError, match="user_id"):
        PersonaClusterer().fit(users, ["user_id", "age"])


def test_centers_follow_persona_ids(users, fitted):
    matrix = fitted.scaler_.transform(users)
    labels = fitted.labels_.to_numpy()
    for persona_id in range(1, fitted.k_ + 1):
        mean = matrix[labels == persona_id].mean(axis=0)
        assert np.allclose(mean, fitted.cluster_centers_[persona_id - 1], atol=0.05)
