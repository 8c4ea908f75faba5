"""`fingrowth run` on ChannelAttribution's reference paths reproduces its attribution figures.

ChannelAttribution (GPL) is a test-only dependency: its `Data.csv` is read from the installed package
and turned into the input contract here, never copied into the repository.

Mapping from a row of `Data.csv` (path "c1 > c2 > ...", total_conversions, total_conversion_value,
total_null) to landing data, as real traffic arrives:
- one user per conversion, touched by the path's channels one minute apart, all on the same morning;
  ChannelAttribution weighs a path by conversions + nulls, and one journey per unit of weight gives
  every transition the same count in our chain;
- each converted user has one completed transaction two hours later, worth the path's value per
  conversion (rounded to the cent, as money in the input contract is), so a journey is the path;
- each null of a path is a visitor who never signed up: the same touches carried by an `anonymous_id`
  alone (no `user_id`, no row in `users`, no event linking it to anyone). Our pipeline makes every such
  journey within the lookback window before the analysis end a non-converting path, which is what
  `total_null` means (rules in `channels/journeys.py`).
"""

import importlib.resources
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from channels.markov import markov_removal_effects
from tests.pipelines.cli_runner import analytics_in_process, query

TOUCH_DAY = datetime(2024, 3, 10, tzinfo=UTC)
AS_OF = "2024-03-10"
MARKOV_SIMULATIONS = 10_000_000
MARKOV_MIN_CONVERSIONS = 250
MARKOV_TOLERANCE = 0.015
# Through the input contract, against the exact removal effects of the reference paths themselves.
EXACT_TOLERANCE = 0.01


def _channel_attribution() -> types.ModuleType:
    import matplotlib

    # ChannelAttribution imports pyplot when it loads; no display here.
    matplotlib.use("Agg")
    import ChannelAttribution

    return ChannelAttribution


def _reference_paths() -> pl.DataFrame:
    # The wheel ships the file in its `cypack` package, next to the C++ sources.
    data = importlib.resources.files("cypack") / "data" / "Data.csv"
    with importlib.resources.as_file(data) as path:
        return pl.read_csv(path, separator=";")


def _channels(paths: pl.DataFrame) -> pl.DataFrame:
    return paths.with_row_index("path_no").with_columns(
        pl.col("path").str.split(">").list.eval(pl.element().str.strip_chars()).alias("channels")
    )


def _write_landing(paths: pl.DataFrame, landing: Path) -> None:
    landing.mkdir(parents=True)
    numbered = _channels(paths)
    converted = (
        numbered.filter(pl.col("total_conversions") > 0)
        .with_columns(
            pl.int_ranges(0, "total_conversions").alias("copy"),
            (pl.col("total_conversion_value") / pl.col("total_conversions")).round(2).alias("value"),
        )
        .explode("copy", empty_as_null=False)
        .with_columns(pl.format("c{}-{}", "path_no", "copy").alias("user_id"))
    )
    visitors = (
        numbered.filter(pl.col("total_null") > 0)
        .with_columns(pl.int_ranges(0, "total_null").alias("copy"))
        .explode("copy", empty_as_null=False)
        .with_columns(pl.format("n{}-{}", "path_no", "copy").alias("anonymous_id"))
    )
    iso = "%Y-%m-%dT%H:%M:%SZ"
    converted.select(
        "user_id", pl.lit((TOUCH_DAY - timedelta(days=9)).strftime(iso)).alias("signup_at")
    ).write_csv(landing / "users.csv")
    converted.select(
        pl.format("t-{}", "user_id").alias("txn_id"),
        "user_id",
        pl.lit((TOUCH_DAY + timedelta(hours=2)).strftime(iso)).alias("occurred_at"),
        pl.col("value").map_elements(lambda v: f"{v:.2f}", return_dtype=pl.String).alias("amount"),
        pl.col("value").map_elements(lambda v: f"{v:.2f}", return_dtype=pl.String).alias("revenue"),
        pl.lit("completed").alias("status"),
    ).write_csv(landing / "transactions.csv")
    journeys = pl.concat([
        converted.select("user_id", pl.lit(None, dtype=pl.String).alias("anonymous_id"), "channels"),
        visitors.select(pl.lit(None, dtype=pl.String).alias("user_id"), "anonymous_id", "channels"),
    ]).with_columns(pl.coalesce("user_id", "anonymous_id").alias("journey"))
    journeys.explode("channels", empty_as_null=False).with_columns(
        pl.int_range(pl.len()).over("journey").alias("minute")
    ).select(
        (pl.lit(TOUCH_DAY) + pl.duration(minutes="minute")).dt.strftime(iso).alias("occurred_at"),
        pl.col("channels").alias("channel"),
        "user_id",
        "anonymous_id",
        pl.lit("click").alias("touch_type"),
    ).write_csv(landing / "touchpoints.csv")


def exact_removal_conversions(paths: pl.DataFrame) -> dict[str, float]:
    """Conversions per channel from the exact removal effects of the first-order chain of `paths`.

    Written here from the definition, independently of `channels.markov`: a path of weight
    conversions + nulls adds its weight to start → c1 → … → ck, then `total_conversions` to ck →
    conversion and `total_null` to ck → null. P(conversion) is the absorption probability from start,
    solved densely; removing a channel sends every walk that reaches it to null.
    """
    numbered = _channels(paths)
    names = sorted(numbered["channels"].explode(empty_as_null=False).unique().to_list())
    n = len(names)
    start, conversion, null = n, n + 1, n + 2
    # Consecutive repeats merged (a self-loop moves no absorption probability), then each step a transition.
    steps = (
        numbered.explode("channels", empty_as_null=False)
        .with_columns(pl.col("channels").replace_strict(names, range(n)).alias("to"))
        .filter((pl.col("to") != pl.col("to").shift(1).over("path_no")).fill_null(True))
        .with_columns(pl.col("to").shift(1, fill_value=start).over("path_no").alias("from"),
                      (pl.col("total_conversions") + pl.col("total_null")).alias("weight"))
    )
    ends = steps.group_by("path_no").agg(pl.col("to").last(), pl.col("total_conversions", "total_null").first())
    transitions = pl.concat([
        steps.select("from", "to", "weight"),
        ends.select(pl.col("to").alias("from"), pl.lit(conversion).alias("to"), pl.col("total_conversions").alias("weight")),
        ends.select(pl.col("to").alias("from"), pl.lit(null).alias("to"), pl.col("total_null").alias("weight")),
    ], how="vertical_relaxed").group_by("from", "to").agg(pl.col("weight").sum())
    counts = np.zeros((n + 3, n + 3))
    counts[transitions["from"].to_numpy(), transitions["to"].to_numpy()] = transitions["weight"].to_numpy()
    probabilities = counts / np.where(counts.sum(axis=1, keepdims=True) > 0, counts.sum(axis=1, keepdims=True), 1)

    def p_conversion(removed: int | None) -> float:
        transient = list(range(n + 1))
        q = probabilities[np.ix_(transient, transient)].copy()
        r = probabilities[transient, conversion].copy()
        if removed is not None:
            q[removed, :], r[removed] = 0.0, 0.0
        return float(np.linalg.solve(np.eye(n + 1) - q, r)[start])

    base = p_conversion(None)
    effects = np.array([1.0 - p_conversion(i) / base for i in range(n)])
    total = float(paths["total_conversions"].sum())
    return {name: float(effect / effects.sum() * total) for name, effect in zip(names, effects)}


@pytest.fixture(scope="module")
def reference() -> dict[str, dict[str, float]]:
    """ChannelAttribution's heuristic models and its Markov model at 1e7 simulations, per channel."""
    ca = _channel_attribution()
    data = _reference_paths().to_pandas()
    heuristic = ca.heuristic_models(data, "path", "total_conversions", var_value="total_conversion_value",
                                    flg_pro=False)
    # order 1 and every simulated walk as long as the longest path: the settings of the exact chain.
    markov = ca.markov_model(data, "path", "total_conversions", var_value="total_conversion_value",
                             var_null="total_null", order=1, nsim_start=MARKOV_SIMULATIONS, ncore=2, seed=0,
                             verbose=False, flg_pro=False)
    figures: dict[str, dict[str, float]] = {}
    for column, model in [("first_touch_conversions", "first_touch"), ("last_touch_conversions", "last_touch"),
                          ("linear_touch_conversions", "linear")]:
        figures[model] = dict(zip(heuristic["channel_name"], heuristic[column].astype(float)))
    for column, model in [("first_touch_value", "first_touch"), ("last_touch_value", "last_touch"),
                          ("linear_touch_value", "linear")]:
        figures[f"{model}_value"] = dict(zip(heuristic["channel_name"], heuristic[column].astype(float)))
    figures["markov"] = dict(zip(markov["channel_name"], markov["total_conversions"].astype(float)))
    return figures


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> dict[str, dict[str, tuple[float, float]]]:
    """Our marts.channel_roi after `fingrowth run` on the reference paths: model -> channel -> (conv, revenue)."""
    workdir = tmp_path_factory.mktemp("channel_attribution")
    _write_landing(_reference_paths(), workdir / "landing")
    result = analytics_in_process(workdir / "landing", workdir, "--as-of", AS_OF)
    assert result.code == 0, result.output
    rows = query(workdir / "w.duckdb", "SELECT attribution_model, channel, conversions, revenue, spend "
                                       "FROM marts.channel_roi")
    # The visitors never signed up: only the converters are users.
    assert query(workdir / "w.duckdb", "SELECT count(*) FROM staged.users")[0][0] == _reference_paths()[
        "total_conversions"].sum()
    assert {spend for *_, spend in rows} == {0}  # no marketing_spend source
    table: dict[str, dict[str, tuple[float, float]]] = {}
    for model, channel, conversions, revenue, _ in rows:
        table.setdefault(model, {})[channel] = (conversions, float(revenue))
    return table


@pytest.mark.slow
def test_every_model_reconciles_to_the_reference_conversions(pipeline) -> None:
    paths = _reference_paths()
    total = paths["total_conversions"].sum()
    channels = set(paths["path"].str.split(">").list.eval(pl.element().str.strip_chars()).explode(empty_as_null=False))
    assert set(pipeline) == {"first_touch", "last_touch", "linear", "time_decay", "position_based", "shapley",
                             "markov"}
    for model, per_channel in pipeline.items():
        assert set(per_channel) == channels, model  # no (direct): every reference path has a touch
        assert sum(conversions for conversions, _ in per_channel.values()) == pytest.approx(total, abs=1e-6), model


@pytest.mark.slow
@pytest.mark.parametrize("model", ["first_touch", "last_touch", "linear"])
def test_heuristic_models_equal_channel_attribution(pipeline, reference, model: str) -> None:
    ours, theirs = pipeline[model], reference[model]
    assert set(ours) == set(theirs)
    for channel, expected in theirs.items():
        assert ours[channel][0] == pytest.approx(expected, abs=1e-6), channel
    # Values differ only by the cents each per-conversion value was rounded to, and the final cent.
    for channel, expected in reference[f"{model}_value"].items():
        conversions, revenue = ours[channel]
        assert abs(revenue - expected) <= 0.005 * conversions + 0.01, channel


@pytest.mark.slow
def test_exact_markov_is_within_tolerance_of_ten_million_simulations(pipeline, reference) -> None:
    ours, theirs = pipeline["markov"], reference["markov"]
    assert set(ours) == set(theirs)
    compared = {channel: expected for channel, expected in theirs.items() if expected > MARKOV_MIN_CONVERSIONS}
    assert len(compared) >= 8  # most of the reference's 12 channels, so the check has teeth
    for channel, expected in compared.items():
        assert ours[channel][0] == pytest.approx(expected, rel=MARKOV_TOLERANCE), channel
    # The exact chain is not a relabelled heuristic: Markov credit differs from linear credit.
    assert max(abs(ours[c][0] - pipeline["linear"][c][0]) / ours[c][0] for c in compared) > 0.2


def test_markov_given_the_paths_directly_equals_the_exact_removal_effects() -> None:
    paths = _reference_paths()
    numbered = _channels(paths)
    converting = (
        numbered.filter(pl.col("total_conversions") > 0)
        .with_columns(pl.int_ranges(0, "total_conversions").alias("copy"))
        .explode("copy", empty_as_null=False)
        .with_row_index("conversion_id")
        .with_columns((pl.col("total_conversion_value") / pl.col("total_conversions")).alias("conversion_value"))
        .explode("channels", empty_as_null=False)
        .with_columns(pl.int_range(1, pl.len() + 1).over("conversion_id").alias("position"))
        .select("conversion_id", pl.col("channels").alias("channel"), "position", "conversion_value")
    )
    null_paths = (
        numbered.filter(pl.col("total_null") > 0)
        .with_columns(pl.int_ranges(0, "total_null").alias("copy"))
        .explode("copy", empty_as_null=False)
        .with_row_index("path_id")
        .explode("channels", empty_as_null=False)
        .with_columns(pl.int_range(1, pl.len() + 1).over("path_id").alias("position"))
        .select("path_id", pl.col("channels").alias("channel"), "position")
    )
    ours = dict(markov_removal_effects(converting, null_paths).select("channel", "conversions").iter_rows())
    exact = exact_removal_conversions(paths)
    assert set(ours) == set(exact)
    for channel, expected in exact.items():
        assert ours[channel] == pytest.approx(expected, rel=1e-9), channel


@pytest.mark.slow
def test_markov_through_the_contract_with_anonymous_null_journeys_matches_the_exact_answer(pipeline) -> None:
    ours, exact = pipeline["markov"], exact_removal_conversions(_reference_paths())
    compared = {channel: expected for channel, expected in exact.items() if expected > MARKOV_MIN_CONVERSIONS}
    assert len(compared) >= 8
    errors = {channel: ours[channel][0] / expected - 1 for channel, expected in compared.items()}
    assert max(abs(error) for error in errors.values()) <= EXACT_TOLERANCE, errors
