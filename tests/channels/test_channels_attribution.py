import numpy as np
import polars as pl
import pytest

from channels import (
    ATTRIBUTION_MODELS,
    DIRECT_CHANNEL,
    AttributionSettings,
    assign_credit,
    attribute,
    attribute_all,
    build_journeys,
    exact_shapley,
    markov_removal_effects,
)
from tests.channels.channels_frames import (
    TS,
    scenario_conversions,
    scenario_touchpoints,
)

# Time-decay weights of u1's touches (30, 21 and 11 days before converting; half-life 7 days).
_U1_DECAY = np.array([2 ** (-30 / 7), 2 ** (-21 / 7), 2 ** (-11 / 7)]) / sum(
    [2 ** (-30 / 7), 2 ** (-21 / 7), 2 ** (-11 / 7)]
)
# Markov on the scenario (no non-converting paths): removal effects search 1/3, social 2/3, email 2/3
# for conversions, 55/170, 110/170, 120/170 for value (u1's 100, u2's 50, u5's 20 flow through
# social -> 25 per visit and email -> 60 per visit); 3 chain conversions worth 170.

# (conversions, revenue) per channel for the hand-made scenario in channels_frames.
EXPECTED = {
    "first_touch": {
        "search": (1.0, 100.0),
        "social": (1.0, 50.0),
        "email": (1.0, 20.0),
        DIRECT_CHANNEL: (1.0, 30.0),
    },
    "last_touch": {
        "search": (0.0, 0.0),
        "social": (1.0, 50.0),
        "email": (2.0, 120.0),
        DIRECT_CHANNEL: (1.0, 30.0),
    },
    "linear": {
        "search": (1 / 3, 100 / 3),
        "social": (4 / 3, 100 / 3 + 50),
        "email": (4 / 3, 100 / 3 + 20),
        DIRECT_CHANNEL: (1.0, 30.0),
    },
    "time_decay": {
        "search": (_U1_DECAY[0], 100 * _U1_DECAY[0]),
        "social": (_U1_DECAY[1] + 1, 100 * _U1_DECAY[1] + 50),
        "email": (_U1_DECAY[2] + 1, 100 * _U1_DECAY[2] + 20),
        DIRECT_CHANNEL: (1.0, 30.0),
    },
    "position_based": {
        "search": (0.4, 40.0),
        "social": (1.2, 20.0 + 50.0),
        "email": (1.4, 40.0 + 20.0),
        DIRECT_CHANNEL: (1.0, 30.0),
    },
    "shapley": {
        "search": (1 / 3, 100 / 3),
        "social": (4 / 3, 100 / 3 + 50),
        "email": (4 / 3, 100 / 3 + 20),
        DIRECT_CHANNEL: (1.0, 30.0),
    },
    "markov": {
        "search": (3 * (1 / 3) / (5 / 3), 170 * 55 / 285),
        "social": (3 * (2 / 3) / (5 / 3), 170 * 110 / 285),
        "email": (3 * (2 / 3) / (5 / 3), 170 * 120 / 285),
        DIRECT_CHANNEL: (1.0, 30.0),
    },
}


@pytest.fixture
def journeys() -> pl.DataFrame:
    return build_journeys(scenario_touchpoints(), scenario_conversions())


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_hand_made_journeys_get_exact_credit(journeys: pl.DataFrame, model: str) -> None:
    result = attribute(journeys, model)
    assert result.schema == pl.Schema(
        {
            "channel": pl.String,
            "attribution_model": pl.String,
            "conversions": pl.Float64,
            "revenue": pl.Float64,
        }
    )
    assert set(result["attribution_model"]) == {model}
    got = {channel: (conv, rev) for channel, _, conv, rev in result.iter_rows()}
    assert got.keys() == EXPECTED[model].keys()
    for channel, (conv, rev) in EXPECTED[model].items():
        assert got[channel] == (pytest.approx(conv, abs=1e-12), pytest.approx(rev, abs=1e-9))


def test_attribute_all_stacks_every_registered_model(journeys: pl.DataFrame) -> None:
    stacked = attribute_all(journeys)
    assert set(stacked["attribution_model"]) == set(ATTRIBUTION_MODELS)
    assert stacked.height == 4 * len(ATTRIBUTION_MODELS)


def test_unknown_model_is_rejected(journeys: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown attribution model"):
        attribute(journeys, "last_non_direct")


def _random_journeys(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n_touches, n_users = 4_000, 600
    base = np.datetime64("2024-01-01T00:00:00", "us")
    touchpoints = pl.DataFrame(
        {
            "touchpoint_id": [f"t{i}" for i in range(n_touches)],
            "user_id": [f"u{i}" for i in rng.integers(0, n_users, n_touches)],
            "occurred_at": base + rng.integers(0, 90 * 86_400, n_touches) * np.timedelta64(1, "s"),
            "channel": rng.choice(["search", "social", "email", "display", "affiliate"], n_touches),
            "touch_type": rng.choice(["click", "impression"], n_touches),
        }
    ).with_columns(pl.col("occurred_at").dt.replace_time_zone("UTC"))
    converting = rng.choice(n_users, 400, replace=False)
    conversions = pl.DataFrame(
        {
            "user_id": [f"u{i}" for i in converting],
            "converted_at": base + rng.integers(0, 90 * 86_400, 400) * np.timedelta64(1, "s"),
            "conversion_value": rng.gamma(2.0, 50.0, 400),
        }
    ).with_columns(pl.col("converted_at").dt.replace_time_zone("UTC").cast(TS))
    return build_journeys(touchpoints, conversions, lookback_days=30)


@pytest.mark.parametrize("model", sorted(ATTRIBUTION_MODELS))
def test_credit_sums_to_one_per_conversion_and_totals_reconcile(model: str) -> None:
    journeys = _random_journeys(seed=7)
    n_conversions = journeys["conversion_id"].n_unique()
    total_value = journeys.unique("conversion_id")["conversion_value"].sum()
    assert n_conversions == 400
    assert journeys["touches"].max() > 1  # the data really has multi-touch journeys

    credited = assign_credit(journeys, model)
    assert credited["credit"].min() >= 0.0
    if model != "markov":  # Markov allocates globally, not journey by journey
        per_conversion = credited.group_by("conversion_id").agg(pl.col("credit").sum())
        assert per_conversion["credit"].to_numpy() == pytest.approx(np.ones(n_conversions), abs=1e-12)

    result = attribute(journeys, model)
    assert result["conversions"].sum() == pytest.approx(n_conversions, abs=1e-9)
    assert result["revenue"].sum() == pytest.approx(total_value, rel=1e-12)


def _journeys_from_paths(paths: list[tuple[list[str], float]]) -> pl.DataFrame:
    """Journeys (build_journeys' columns that models read) from (channels, value) pairs."""
    rows = [
        (index, f"u{index}", value, channel, position + 1, len(channels))
        for index, (channels, value) in enumerate(paths)
        for position, channel in enumerate(channels)
    ]
    return pl.DataFrame(
        rows,
        schema={"conversion_id": pl.UInt32, "user_id": pl.String, "conversion_value": pl.Float64,
                "channel": pl.String, "position": pl.Int32, "touches": pl.Int32},
        orient="row",
    )


def _non_converting(paths: list[list[str]]) -> pl.DataFrame:
    rows = [
        (index, channel, position + 1, len(channels))
        for index, channels in enumerate(paths)
        for position, channel in enumerate(channels)
    ]
    return pl.DataFrame(
        rows,
        schema={"path_id": pl.UInt32, "channel": pl.String, "position": pl.Int32, "touches": pl.Int32},
        orient="row",
    )


def test_shapley_counts_distinct_channels_where_linear_counts_touches() -> None:
    journeys = _journeys_from_paths([(["a", "a", "b"], 30.0)])
    linear = dict(attribute(journeys, "linear").select("channel", "conversions").iter_rows())
    shapley = dict(attribute(journeys, "shapley").select("channel", "conversions").iter_rows())
    assert linear == {"a": pytest.approx(2 / 3), "b": pytest.approx(1 / 3)}
    assert shapley == {"a": pytest.approx(0.5), "b": pytest.approx(0.5)}


@pytest.mark.parametrize("seed", [3, 7, 19])
def test_simplified_shapley_equals_shapley_from_its_definition(seed: int) -> None:
    journeys = _random_journeys(seed=seed)
    closed_form = attribute(journeys, "shapley").sort("channel")
    exact = exact_shapley(journeys).sort("channel")
    assert closed_form["channel"].to_list() == exact["channel"].to_list()
    assert closed_form["conversions"].to_numpy() == pytest.approx(exact["conversions"].to_numpy(), abs=1e-9)
    assert closed_form["revenue"].to_numpy() == pytest.approx(exact["revenue"].to_numpy(), rel=1e-9)


def test_exact_shapley_of_a_hand_made_game() -> None:
    # v({a}) = 2, v({b}) = 0, v({a, b}) = 2 + 1 + 1: a gets 2 + 1/2, b gets 1/2 + 1.
    journeys = _journeys_from_paths([(["a"], 1.0), (["a"], 1.0), (["a", "b"], 4.0), (["b", "b"], 0.0)])
    journeys = journeys.with_columns(pl.when(pl.col("user_id") == "u3").then(pl.lit("b")).otherwise("channel")
                                     .alias("channel"))
    exact = {row[0]: row[1:] for row in exact_shapley(journeys).iter_rows()}
    assert exact["a"] == (pytest.approx(2.5), pytest.approx(4.0))
    assert exact["b"] == (pytest.approx(1.5), pytest.approx(2.0))


def test_markov_removal_effects_with_non_converting_paths() -> None:
    # Chain: start -> a 3/4, start -> b 1/4; a -> b 1/3, a -> null 2/3; b -> conversion.
    # P(conv) = 1/2; without a: 1/4 (RE 1/2); without b: 0 (RE 1).
    journeys = _journeys_from_paths([(["a", "b"], 10.0), (["b"], 20.0)])
    null_paths = _non_converting([["a"], ["a", "a"]])
    effects = markov_removal_effects(journeys, null_paths)
    got = {row[0]: row[1:] for row in effects.iter_rows()}
    assert got["a"][0] == pytest.approx(0.5) and got["b"][0] == pytest.approx(1.0)
    assert got["a"][2] == pytest.approx(2 * 0.5 / 1.5) and got["b"][2] == pytest.approx(2 * 1.0 / 1.5)
    # Value converts from b only, 15 per visit: 7.5 expected per start, 3.75 without a.
    assert got["a"][1] == pytest.approx(1 - (1 / 4 * 15) / (3 / 4 * 1 / 3 * 15 + 1 / 4 * 15))
    assert effects["revenue"].sum() == pytest.approx(30.0)
    # Without the null paths every walk through a converts: a's removal effect is a's share of starts.
    alone = {row[0]: row[1] for row in markov_removal_effects(journeys).iter_rows()}
    assert alone == {"a": pytest.approx(0.5), "b": pytest.approx(1.0)}


def test_markov_ignores_input_order_and_repeated_touches() -> None:
    journeys = _journeys_from_paths([(["a", "b", "c"], 5.0), (["b", "b", "c"], 7.0), (["c"], 1.0)])
    null_paths = _non_converting([["a", "c"], ["b"], ["b", "a"]])
    ordered = markov_removal_effects(journeys, null_paths)
    shuffled = markov_removal_effects(journeys.sample(fraction=1.0, shuffle=True, seed=1),
                                      null_paths.reverse())
    assert ordered.equals(shuffled)
    collapsed = markov_removal_effects(
        _journeys_from_paths([(["a", "b", "c"], 5.0), (["b", "c"], 7.0), (["c"], 1.0)]), null_paths
    )
    assert collapsed["conversions"].to_numpy() == pytest.approx(ordered["conversions"].to_numpy(), abs=1e-12)


def test_markov_higher_order_states_are_windows_of_touches() -> None:
    # Second order: states (a,b), (b,c), (c,b) etc.; all totals still reconcile, and with
    # single-channel paths order does not matter.
    journeys = _random_journeys(seed=5)
    second = markov_removal_effects(journeys, order=2)
    assert second["conversions"].sum() == pytest.approx(400.0)
    assert second["revenue"].sum() == pytest.approx(journeys.unique("conversion_id")["conversion_value"].sum())
    first = markov_removal_effects(journeys, order=1)
    assert not np.allclose(first["conversions"].to_numpy(), second["conversions"].to_numpy())
    single = _journeys_from_paths([(["a"], 1.0), (["b"], 2.0), (["a"], 3.0)])
    assert markov_removal_effects(single, order=3).equals(markov_removal_effects(single, order=1))


def test_markov_second_order_hand_made_chain() -> None:
    # Paths a>b>c (converts) and c>b>a (lost). Order 2 states: ab, bc | cb, ba. Removing c kills
    # the only converting path (RE 1); a and b lie on it too, so all three have RE 1.
    journeys = _journeys_from_paths([(["a", "b", "c"], 1.0)])
    null_paths = _non_converting([["c", "b", "a"]])
    effects = markov_removal_effects(journeys, null_paths, order=2)
    assert effects["removal_effect"].to_list() == [pytest.approx(1.0)] * 3
    # First order mixes the two paths: every state leads both ways with probability 1/2, so
    # P(conv) = 1/2, 1/3 without a and 1/4 without b.
    first = {row[0]: row[1] for row in markov_removal_effects(journeys, null_paths).iter_rows()}
    assert first == {"a": pytest.approx(1 / 3), "b": pytest.approx(1 / 2), "c": pytest.approx(1.0)}


def test_settings_reach_the_models(journeys: pl.DataFrame) -> None:
    slow = attribute(journeys, "time_decay", settings=AttributionSettings(half_life_days=1e6))
    linear = attribute(journeys, "linear")
    assert slow["conversions"].to_numpy() == pytest.approx(linear["conversions"].to_numpy(), abs=1e-5)
    flat = attribute(journeys, "position_based", settings=AttributionSettings(position_weights=(0.5, 0.0, 0.5)))
    assert dict(flat.select("channel", "conversions").iter_rows())["social"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        AttributionSettings(position_weights=(0.5, 0.5, 0.5))
