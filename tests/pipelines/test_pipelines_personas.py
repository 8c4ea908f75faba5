"""Personas on generated sample data: they recover the planted types and keep their ids across runs.

One warehouse sees three runs of the real pipeline (everything upstream of the segments):
at day 90 of a 120-day sample, at day 120, and at day 120 again.
"""

import datetime as dt

import dagster as dg
import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from assets.graph import ANALYTICS_ASSETS, EXTERNAL_ASSETS, SEPARATE_CHECKS
from pipelines.resource_factory import build_resources
from pipelines.settings import Settings
from sampledata import generate_sample_data
from warehouse import connect, read_frame

END = dt.date(2026, 6, 30)
DAY_90 = END - dt.timedelta(days=30)
SEGMENT_ASSETS = dg.AssetSelection.assets("user_segment", "user_rule_segment", "segment_movement").upstream().required_multi_asset_neighbors()
TABLES = ["user_segment", "persona", "persona_k_evidence", "persona_changes", "persona_centroids", "persona_registry",
          "segment_movement", "user_rule_segment"]


def run(landing, warehouse, out, as_of):
    settings = Settings(landing=landing, warehouse=warehouse, out=out, as_of=as_of)
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([*ANALYTICS_ASSETS, *EXTERNAL_ASSETS, *SEPARATE_CHECKS], resources=build_resources(settings),
                                instance=instance, selection=SEGMENT_ASSETS)
    assert result.success
    with connect(warehouse) as conn:
        return {t: read_frame(conn, f"SELECT * FROM marts.{t}") for t in TABLES} | {
            "history": read_frame(conn, "SELECT * FROM marts.user_segment_history")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("personas")
    summary = generate_sample_data(root / "landing", users=5000, days=120, seed=7, end_date=END)
    truth = pl.read_csv(summary.truth_path)
    args = (root / "landing", root / "w.duckdb", root / "out")
    day_90 = run(*args, as_of=DAY_90)
    day_120 = run(*args, as_of=END)
    again = run(*args, as_of=END)
    return truth, day_90, day_120, again


def test_personas_recover_the_planted_types(runs):
    truth, _, day_120, _ = runs
    segments = day_120["user_segment"].join(truth, on="user_id")
    # Every planted user is segmented; so are the planted copies whose only defect is an optional value
    # (a risk level of C9), staged with that value null.
    assert segments.height == truth.height
    assert day_120["user_segment"].height == truth.height + day_120["user_segment"].filter(
        ~pl.col("user_id").is_in(truth["user_id"].implode())).height
    ari = adjusted_rand_score(segments["planted_type"], segments["persona_id"])
    print(f"\nARI against the planted types: {ari:.3f}")
    assert ari >= 0.8
    evidence = day_120["persona_k_evidence"]
    assert evidence.filter("chosen")["k"].to_list() == [day_120["persona"].height]
    assert evidence["stability"].is_not_null().all() and evidence["silhouette"].is_between(-1, 1).all()
    assert day_120["persona"]["persona_name"].n_unique() == day_120["persona"].height


def test_a_rerun_on_the_same_data_changes_nothing(runs):
    _, day_90, day_120, again = runs
    assert again["user_segment"].sort("user_id").equals(day_120["user_segment"].sort("user_id"))
    assert again["persona"].drop("status").equals(day_120["persona"].drop("status"))
    assert set(again["persona_changes"]["status"]) == {"kept"}
    assert again["persona_changes"]["distance"].max() < 1e-6
    # History holds one row per user per as-of date, not one per run.
    history = again["history"]
    assert history.group_by("as_of").len().sort("as_of").rows() == [
        (DAY_90, day_90["user_segment"].height), (END, day_120["user_segment"].height)]


def test_thirty_days_later_users_keep_their_persona_id(runs):
    truth, day_90, day_120, _ = runs
    before = day_90["user_segment"].select("user_id", pl.col("persona_id").alias("before"))
    after = day_120["user_segment"].select("user_id", pl.col("persona_id").alias("after"))
    both = before.join(after, on="user_id")
    assert both.height == before.height  # everyone profiled at day 90 is still profiled at day 120
    kept = (both["before"] == both["after"]).mean()
    print(f"\nusers in the same persona 30 days later: {kept:.1%}")
    assert kept >= 0.9
    changes = day_120["persona_changes"]
    assert changes.filter(pl.col("status") == "kept").height >= 4
    registry = day_120["persona_registry"]
    assert set(day_120["persona"]["persona_id"]) <= set(registry["persona_id"])
    kept_ids = changes.filter(pl.col("status") == "kept")["persona_id"]
    names_90 = dict(day_90["persona"].select("persona_id", "persona_name").iter_rows())
    names_120 = dict(day_120["persona"].select("persona_id", "persona_name").iter_rows())
    assert all(names_120[i] == names_90[i] for i in kept_ids)
    movement = day_120["segment_movement"].filter(pl.col("dimension") == "persona")
    assert movement["users"].sum() == both.height
    assert movement.filter(pl.col("from_segment") == pl.col("to_segment"))["users"].sum() == (
        both["before"] == both["after"]).sum()


def test_rule_segments_are_materialized(runs):
    _, _, day_120, _ = runs
    memberships = day_120["user_rule_segment"]
    assert memberships.columns == ["user_id", "segment"]
    assert memberships.n_unique() == memberships.height
    assert memberships["segment"].n_unique() >= 4
    champions = set(memberships.filter(pl.col("segment") == "champions")["user_id"])
    expected = set(day_120["user_segment"].filter(pl.col("rfm_segment") == "Champions")["user_id"])
    assert champions == expected and champions
