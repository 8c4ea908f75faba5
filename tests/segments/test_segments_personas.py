import json

import numpy as np
import polars as pl

from segments.personas import _LABEL, PERSONA_DESCRIPTION_SCHEMA, _z_scores, describe_personas
from segments.phrases import FEATURE_PHRASES, FEATURE_PHRASES_ZH, FEATURE_TEXT
from segments.scaling import RobustFeatureScaler
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
    assert personas.schema == pl.Schema(PERSONA_DESCRIPTION_SCHEMA)
    assert personas["persona_id"].to_list() == [1, 2, 3, 4]
    assert personas["users"].sum() == users.height
    assert abs(personas["share"].sum() - 1.0) < 1e-12
    assert personas["persona_name"].n_unique() == personas.height
    assert personas["persona_name_zh"].n_unique() == personas.height
    assert personas["never_bought_share"].is_null().all()  # no `purchased` given


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
            assert set(d) == {"feature", "statistic", "basis", "persona_value", "population_value", "z"}
            assert d["feature"] in FEATURES
            assert FEATURE_TEXT[d["feature"]].en in row["description"]
            assert FEATURE_TEXT[d["feature"]].zh in row["description_zh"]
        assert row["description"].startswith(f"{row['users']:,} users")
        assert row["description_zh"].startswith(f"{row['users']:,} 位用户")
        # Money is written with the currency, e.g. "total invested ¥…".
        if any(FEATURE_TEXT[d["feature"]].kind == "money" for d in details):
            assert "¥" in row["description"] and "¥" in row["description_zh"]


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


def test_a_persona_of_people_who_never_bought_is_named_for_that_not_for_its_zero_tickets():
    rng = np.random.default_rng(3)
    n = 600
    # Persona 1: 93% never bought (rate 0, ticket 0, idle 1 by imputation); persona 2 and 3 buy.
    bought = np.concatenate([rng.random(n) < 0.07, np.ones(2 * n, dtype=bool)])
    rate = np.where(bought, np.concatenate([rng.gamma(2, 0.02, n), rng.gamma(2, 0.08, n), rng.gamma(2, 0.03, n)]), 0)
    ticket = np.where(bought, np.concatenate([rng.lognormal(4, 1, n), rng.lognormal(4, 1, n),
                                              rng.lognormal(7, 1, n)]), 0)
    age = np.concatenate([rng.normal(24, 3, n), rng.normal(35, 5, n), rng.normal(45, 5, n)])
    frame = pl.DataFrame({"txn_per_day": rate, "monetary_avg": ticket, "age": age})
    labels = pl.Series(np.repeat([1, 2, 3], n))

    personas = describe_personas(frame, labels, ["txn_per_day", "monetary_avg", "age"],
                                 purchased=pl.Series(bought), currency="CNY").sort("persona_id")

    first = personas.row(0, named=True)
    assert first["persona_name"].startswith("Never bought yet")
    assert first["persona_name_zh"].startswith("注册未交易")
    assert "tickets" not in first["persona_name"] and "buyers" not in first["persona_name"]
    assert first["never_bought_share"] > 0.9 and "have never bought" in first["description"]
    assert "purchase size" not in first["description"]  # the zeros of people who never bought are no ticket size
    # Ticket sizes are compared among buyers and written in the currency.
    third = personas.row(2, named=True)
    assert "Large tickets" in third["persona_name"] or "large tickets" in third["persona_name"]
    assert "median purchase size ¥" in third["description"] and "(buyers)" in third["description"]
    assert "单笔交易金额中位数 ¥" in third["description_zh"]


def test_a_phrase_must_hold_for_most_members_not_only_their_mean():
    rng = np.random.default_rng(4)
    n = 500
    # Persona 1's mean of x is far above the rest because 40% of it is huge; the other 60% sit below the median.
    x = np.concatenate([np.where(rng.random(n) < 0.4, 1e6, rng.lognormal(0.6, 0.2, n)), rng.lognormal(1, 0.3, 2 * n)])
    y = np.concatenate([rng.normal(0, 1, n), rng.normal(-2, 1, n), rng.normal(2, 1, n)])
    frame = pl.DataFrame({"x": x, "y": y})
    labels = pl.Series(np.repeat([1, 2, 3], n))

    personas = describe_personas(frame, labels, ["x", "y"], feature_phrases={"x": ("big x", "small x")})

    scaler = RobustFeatureScaler().fit(frame, ["x", "y"])
    z_of_x = _z_scores(frame.with_columns(labels.alias(_LABEL)), scaler, ["x", "y"]).filter(pl.col(_LABEL) == 1)["x"]
    assert z_of_x.item() > 0.25  # distinguishing by z: only the majority rule keeps it out of the name
    first = personas.filter(pl.col("persona_id") == 1).row(0, named=True)
    assert "big x" not in first["persona_name"].lower()
    assert all(d["feature"] != "x" for d in json.loads(first["top_features"]))


def test_chinese_names_follow_the_english_features():
    frame = pl.DataFrame({"age": [20.0, 21, 22, 23, 50, 51, 52, 53], "credit_share": [0.9, 0.8, 0.9, 1, 0, 0, 0, 0.1]})
    labels = pl.Series([1, 1, 1, 1, 2, 2, 2, 2])
    personas = describe_personas(frame, labels, ["age", "credit_share"], min_abs_z=0.1).sort("persona_id")
    for row in personas.iter_rows(named=True):
        for feature, (high_en, low_en) in FEATURE_PHRASES.items():
            for en, zh in ((high_en, FEATURE_PHRASES_ZH[feature][0]), (low_en, FEATURE_PHRASES_ZH[feature][1])):
                if feature in ("age", "credit_share") and en in row["persona_name"].lower():
                    assert zh in row["persona_name_zh"], (row, feature)
    assert personas["persona_name"].to_list()[0].lower().startswith(("credit-led", "young"))
