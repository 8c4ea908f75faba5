import json

import numpy as np
import polars as pl

from segments.personas import describe_personas
from segments.phrases import FEATURE_PHRASES
from tests.segments.conftest import FEATURES

# Phrase each planted persona must carry (see PLANTED in conftest).
PLANTED_PHRASE = {
    0: "frequent credit users",
    1: "large investors",
    2: "frequent payers",
    3: "older",
}


def test_one_row_per_persona_with_the_contract_columns(users, fitted):
    personas = describe_personas(users, fitted.labels_, FEATURES)
    assert personas.schema == pl.Schema(
        {"persona_id": pl.Int64, "persona_name": pl.Utf8, "description": pl.Utf8,
         "users": pl.Int64, "share": pl.Float64, "top_features": pl.Utf8}
    )
    assert personas["persona_id"].to_list() == [1, 2, 3, 4]
    assert personas["users"].sum() == users.height
    assert abs(personas["share"].sum() - 1.0) < 1e-12
    assert personas["persona_name"].n_unique() == personas.height


def test_names_mention_the_planted_distinguishing_feature(users, fitted):
    personas = describe_personas(users, fitted.labels_, FEATURES)
    truth_of = (
        users.with_columns(fitted.labels_)
        .group_by("persona_id")
        .agg(pl.col("truth").mode().first())
    )
    named = personas.join(truth_of, on="persona_id")
    for row in named.iter_rows(named=True):
        assert PLANTED_PHRASE[row["truth"]] in row["persona_name"].lower(), row


def test_top_features_are_json_with_values_and_z(users, fitted):
    personas = describe_personas(users, fitted.labels_, FEATURES)
    for row in personas.iter_rows(named=True):
        details = json.loads(row["top_features"])
        assert 1 <= len(details) <= 3
        zs = [abs(d["z"]) for d in details]
        assert zs == sorted(zs, reverse=True)
        for d in details:
            assert set(d) == {"feature", "statistic", "persona_value", "population_value", "z"}
            assert d["feature"] in FEATURES
            assert d["feature"].replace("_", " ") in row["description"]
        assert row["description"].startswith(f"{row['users']:,} users")


def test_wealth_persona_reports_higher_wealth_than_population(users, fitted):
    personas = describe_personas(users, fitted.labels_, FEATURES)
    wealthy = personas.filter(pl.col("persona_name").str.contains("Large investors"))
    top = json.loads(wealthy["top_features"].item())
    wealth = next(d for d in top if d["feature"] == "wealth_amount")
    assert wealth["z"] > 0
    assert wealth["persona_value"] > 10 * wealth["population_value"]


def test_clashing_names_are_made_unique_with_the_next_feature():
    rng = np.random.default_rng(0)
    n = 500
    # Personas 1 and 2 are both high on a and b (strongly) and differ only on c (weakly).
    a = np.concatenate([rng.normal(10, 1, n), rng.normal(10, 1, n), rng.normal(0, 1, n)])
    b = np.concatenate([rng.normal(10, 1, n), rng.normal(10, 1, n), rng.normal(0, 1, n)])
    c = np.concatenate([rng.normal(0.4, 1, n), rng.normal(-0.4, 1, n), rng.normal(0, 1, n)])
    frame = pl.DataFrame({"a": a, "b": b, "c": c})
    labels = pl.Series("persona_id", np.repeat([1, 2, 3], n))
    personas = describe_personas(frame, labels, ["a", "b", "c"], feature_phrases={})
    names = dict(zip(personas["persona_id"], personas["persona_name"]))
    assert len(set(names.values())) == 3
    assert names[1] == "High a, high b, high c"
    assert names[2] == "High b, high a, low c"


def test_identical_personas_still_get_distinct_names():
    frame = pl.DataFrame({"x": [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]})
    labels = pl.Series([1, 1, 1, 2, 2, 2])
    personas = describe_personas(frame, labels, ["x"])
    assert personas["persona_name"].n_unique() == 2
    assert personas["persona_name"].str.contains("Typical users").all()


def test_default_phrases_cover_the_profile_features():
    expected = {
        "txn_count", "total_amount", "monetary_avg", "recency_days", "tenure_days",
        "credit_txn_count", "wealth_txn_count", "payment_txn_count", "credit_amount",
        "wealth_amount", "payment_amount", "events_per_active_day", "active_days", "age",
        "city_tier",
    }
    assert expected <= set(FEATURE_PHRASES)
    for high, low in FEATURE_PHRASES.values():
        assert high and low and high != low


def test_same_phrases_in_another_order_count_as_a_clash():
    # Two personas high on a and b in swapped strength, with nothing else to tell them apart.
    rng = np.random.default_rng(1)
    n = 400
    a = np.concatenate([rng.normal(10, 1, n), rng.normal(9, 1, n), rng.normal(0, 1, n)])
    b = np.concatenate([rng.normal(9, 1, n), rng.normal(10, 1, n), rng.normal(0, 1, n)])
    frame = pl.DataFrame({"a": a, "b": b})
    labels = pl.Series(np.repeat([1, 2, 3], n))
    personas = describe_personas(frame, labels, ["a", "b"], feature_phrases={})
    names = personas.sort("persona_id")["persona_name"].to_list()
    assert names[:2] == ["High a, high b (persona 1)", "High b, high a (persona 2)"]
    assert "(persona" not in names[2]


def test_reusing_the_clusterer_scaler_gives_the_same_personas(users, fitted):
    own = describe_personas(users, fitted.labels_, FEATURES)
    shared = describe_personas(users, fitted.labels_, FEATURES, scaler=fitted.scaler_)
    assert shared.equals(own)
