import polars as pl
import pytest

from channels import (
    DIRECT_CHANNEL,
    build_journeys,
    build_non_converting_paths,
    first_conversions,
)
from tests.channels.channels_frames import (
    TS,
    at,
    conversions,
    scenario_conversions,
    scenario_touchpoints,
    touchpoints,
)


def _paths(journeys: pl.DataFrame) -> dict[str, list[str]]:
    grouped = journeys.group_by("user_id").agg(pl.col("channel").sort_by("position"))
    return dict(grouped.iter_rows())


def test_lookback_window_and_conversion_instant_bound_the_journey() -> None:
    journeys = build_journeys(scenario_touchpoints(), scenario_conversions(), lookback_days=30)
    assert _paths(journeys) == {
        "u1": ["search", "social", "email"],
        "u2": ["social"],
        "u3": [DIRECT_CHANNEL],
        "u5": ["email", "email"],
    }
    u1 = journeys.filter(pl.col("user_id") == "u1")
    assert u1["touchpoint_id"].to_list() == ["t02", "t03", "t04"]
    assert u1["position"].to_list() == [1, 2, 3]
    assert u1["touches"].to_list() == [3, 3, 3]
    assert u1["conversion_value"].to_list() == [100.0, 100.0, 100.0]


def test_shorter_lookback_drops_older_touches() -> None:
    journeys = build_journeys(scenario_touchpoints(), scenario_conversions(), lookback_days=15)
    assert _paths(journeys)["u1"] == ["email"]


def test_schema_and_direct_rows() -> None:
    journeys = build_journeys(scenario_touchpoints(), scenario_conversions())
    assert journeys.schema["position"] == pl.Int32
    assert journeys.schema["touches"] == pl.Int32
    assert journeys.schema["conversion_value"] == pl.Float64
    assert journeys.schema["occurred_at"] == TS
    direct = journeys.filter(pl.col("channel") == DIRECT_CHANNEL)
    assert direct["user_id"].to_list() == ["u3"]
    assert direct["occurred_at"].to_list() == [None]
    assert direct["touchpoint_id"].to_list() == [None]
    assert (direct["position"].item(), direct["touches"].item()) == (1, 1)
    # Every conversion appears, and its value once per journey.
    per_conversion = journeys.unique("conversion_id")
    assert per_conversion.height == 4
    assert per_conversion["conversion_value"].sum() == pytest.approx(200.0)


def test_journeys_do_not_depend_on_input_order() -> None:
    forward = build_journeys(scenario_touchpoints(), scenario_conversions())
    backward = build_journeys(scenario_touchpoints().reverse(), scenario_conversions().reverse())
    assert forward.equals(backward)


def test_same_instant_touches_are_ordered_by_touchpoint_id() -> None:
    touches = touchpoints(
        [("b", "u1", at(5), "social", "click"), ("a", "u1", at(5), "search", "click")]
    )
    journeys = build_journeys(touches, conversions([("u1", at(6), 1.0)]))
    assert journeys["channel"].to_list() == ["search", "social"]


def test_touch_type_filter() -> None:
    journeys = build_journeys(
        scenario_touchpoints(), scenario_conversions(), touch_types=["click"]
    )
    # u1's social touch was an impression.
    assert _paths(journeys)["u1"] == ["search", "email"]


def test_repeat_conversions_split_touches_between_them() -> None:
    touches = touchpoints(
        [
            ("t1", "u1", at(1), "search", "click"),
            ("t2", "u1", at(5), "social", "click"),  # exactly at the first conversion
            ("t3", "u1", at(8), "email", "click"),
        ]
    )
    convs = conversions([("u1", at(5), 10.0), ("u1", at(10), 20.0)])
    journeys = build_journeys(touches, convs)
    by_conversion = dict(
        journeys.group_by("conversion_value").agg(pl.col("channel").sort_by("position")).iter_rows()
    )
    assert by_conversion == {10.0: ["search"], 20.0: ["social", "email"]}


def test_invalid_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="channel"):
        build_journeys(scenario_touchpoints().drop("channel"), scenario_conversions())
    with pytest.raises(ValueError, match="lookback_days"):
        build_journeys(scenario_touchpoints(), scenario_conversions(), lookback_days=0)


def test_first_conversions_takes_first_completed_transaction() -> None:
    transactions = pl.DataFrame(
        {
            "txn_id": ["x1", "x2", "x3", "x4", "x5"],
            "user_id": ["u1", "u1", "u1", "u2", "u2"],
            "occurred_at": [at(1), at(2), at(3), at(4), at(4)],
            "revenue": ["1.50", "2.25", "9.00", "4.00", "5.00"],
            "status": ["failed", "completed", "completed", "completed", "completed"],
        },
        schema_overrides={"occurred_at": TS, "revenue": pl.Decimal(18, 2)},
    )
    result = first_conversions(transactions)
    assert result.schema == pl.Schema(
        {"user_id": pl.String, "converted_at": TS, "conversion_value": pl.Float64}
    )
    assert result.sort("user_id").rows() == [("u1", at(2), 2.25), ("u2", at(4), 4.0)]


def test_non_converting_paths_are_the_window_before_the_cutoff_of_users_who_never_converted() -> None:
    extra = touchpoints(
        [
            ("t20", "u6", at(2), "email", "click"),  # 29 days before the cut-off: inside
            ("t21", "u6", at(1), "search", "impression"),  # exactly 30 days before: inside
            ("t22", "u6", at(29, month=2), "social", "click"),  # 31 days before: outside
            ("t23", "u6", at(31), "display", "click"),  # at the cut-off: outside
        ]
    )
    paths = build_non_converting_paths(
        pl.concat([scenario_touchpoints(), extra]), scenario_conversions(), cutoff=at(31), lookback_days=30
    )
    # u1, u2, u3, u5 converted (their later touches are not null paths); t12 has no user.
    assert _paths(paths) == {"u4": ["display"], "u6": ["search", "email"]}
    assert paths.columns == ["path_id", "user_id", "anonymous_id", "touchpoint_id", "occurred_at", "channel",
                             "touch_type", "position", "touches"]
    u6 = paths.filter(pl.col("user_id") == "u6")
    assert u6["touchpoint_id"].to_list() == ["t21", "t20"]
    assert (u6["position"].to_list(), u6["touches"].to_list()) == ([1, 2], [2, 2])
    assert paths["path_id"].n_unique() == 2
    early = build_non_converting_paths(scenario_touchpoints(), scenario_conversions(), cutoff=at(5))
    assert early.is_empty()


def test_anonymous_journeys_that_no_event_tied_to_a_user_are_null_paths_of_their_own() -> None:
    visitors = touchpoints(
        [
            ("t30", None, at(10), "search", "click"),
            ("t31", None, at(12), "social", "click"),
            ("t32", None, at(11), "email", "click"),
            ("t33", None, at(13), "display", "click"),  # neither a user nor an anonymous id: dropped
            ("t34", None, at(20), "display", "click"),  # the anonymous id of a converted user, stitched
        ]
    ).with_columns(pl.Series("anonymous_id", ["a1", "a1", "a2", None, "a9"]))
    known = scenario_touchpoints().with_columns(pl.lit(None, dtype=pl.String).alias("anonymous_id"))
    # Stitching gave t34 its user (u1, who converted): it is that user's touch, not a visitor's.
    resolved = pl.concat([known, visitors]).with_columns(
        pl.when(pl.col("touchpoint_id") == "t34").then(pl.lit("u1")).otherwise(pl.col("user_id")).alias("user_id"))

    paths = build_non_converting_paths(resolved, scenario_conversions(), cutoff=at(31), lookback_days=30)

    by_path = paths.group_by("path_id", maintain_order=True).agg(
        pl.col("user_id").first(), pl.col("anonymous_id").first(), pl.col("channel"))
    assert by_path.select("user_id", "anonymous_id", "channel").rows() == [
        ("u4", None, ["display"]), (None, "a1", ["search", "social"]), (None, "a2", ["email"])]
    assert paths["path_id"].to_list() == [0, 1, 1, 2]
    assert paths.filter(pl.col("anonymous_id") == "a1")["position"].to_list() == [1, 2]
    # Without an anonymous_id column only known users have null paths, as before.
    assert _paths(build_non_converting_paths(resolved.drop("anonymous_id"), scenario_conversions(), at(31))) == {
        "u4": ["display"]}
