"""Marts: RFM segments, personas with identities kept across runs, their history, rule segments, lifecycle counts."""

from pathlib import Path

import dagster as dg
import polars as pl

from assets.resources import AnalysisResource, WarehouseResource
from assets.tables import ForeignKey, WarehouseTable, materialized, table_asset
from segments.lifecycle import lifecycle_counts as count_lifecycle_stages
from segments.rule_segments import (
    DEFAULT_RULES_FILE,
    RuleSegmentError,
    apply_rule_segments,
    load_rule_segments,
    rule_segment_definitions,
)
from segments.segmentation_run import segment_users
from warehouse import load_query, read_frame, replace_rows, table_exists, write_frame

PROFILED_USER = ForeignKey(("user_id",), "marts.user_profile")
USER_SEGMENT = WarehouseTable(
    key="user_segment", table="marts.user_segment", group="marts", deps=("user_profile", "core_user_activity"),
    kinds=frozenset({"duckdb", "scikitlearn"}),
    grain="One row per profiled user: persona id and name, RFM scores and segment",
    primary_key=("user_id",), foreign_keys=(PROFILED_USER, ForeignKey(("persona_id",), "marts.persona")))
PERSONA = WarehouseTable(
    key="persona", table="marts.persona", group="marts", deps=("user_profile",),
    grain="One row per persona: name and description in English and Chinese, size, share, share who never bought, "
          "distinguishing features, kept or new since the previous run", primary_key=("persona_id",))
PERSONA_K_EVIDENCE = WarehouseTable(
    key="persona_k_evidence", table="marts.persona_k_evidence", group="marts", deps=("user_profile",),
    grain="One row per candidate number of personas k: silhouette, stability, inertia, chosen", primary_key=("k",))
PERSONA_CENTROIDS = WarehouseTable(
    key="persona_centroids", table="marts.persona_centroids", group="marts", deps=("user_profile",),
    grain="One row per current persona × feature: centroid in original and scaled units",
    detail="The next run matches its clusters to these.", primary_key=("persona_id", "feature"))
PERSONA_CHANGES = WarehouseTable(
    key="persona_changes", table="marts.persona_changes", group="marts", deps=("user_profile",),
    grain="One row per persona of this or the previous run: kept, new or gone, with the centroid distance of the match",
    primary_key=("persona_id",))
PERSONA_REGISTRY = WarehouseTable(
    key="persona_registry", table="marts.persona_registry", group="marts", deps=("user_profile",),
    grain="One row per persona id ever issued: name, first and last as-of date seen, active or gone",
    primary_key=("persona_id",))
USER_SEGMENT_HISTORY = WarehouseTable(
    key="user_segment_history", table="marts.user_segment_history", group="marts", deps=("user_profile",),
    grain="One row per user per as-of date: persona, RFM segment and lifecycle stage",
    detail="A rerun for the same as-of date replaces that date's rows; earlier dates stay.",
    primary_key=("as_of", "user_id"))
SEGMENT_MOVEMENT = WarehouseTable(
    key="segment_movement", table="marts.segment_movement", group="marts", deps=("user_segment_history",),
    grain="One row per dimension (persona, RFM segment) × segment at the previous as-of date × segment now: users",
    primary_key=("dimension", "from_segment", "to_segment"), nullable_key=("from_segment", "to_segment"))
SEGMENTATION_TABLES = [USER_SEGMENT, PERSONA, PERSONA_K_EVIDENCE, PERSONA_CENTROIDS, PERSONA_CHANGES,
                       PERSONA_REGISTRY, USER_SEGMENT_HISTORY]


@table_asset(*SEGMENTATION_TABLES, name="segmentation",
             description="Score RFM segments, cluster users into personas with an automatic k, keep persona ids "
                         "across runs and record each user's history (`segments/segmentation_run.py`).")
def segmentation(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        profile = read_frame(conn, "SELECT * FROM marts.user_profile ORDER BY user_id")
        as_of, history_days = conn.sql(load_query("segments", "history_days")).fetchone()
        result = segment_users(
            profile, int(history_days), as_of,
            read_frame(conn, "SELECT * FROM marts.persona_centroids") if table_exists(conn, PERSONA_CENTROIDS.table) else None,
            read_frame(conn, "SELECT * FROM marts.persona_registry") if table_exists(conn, PERSONA_REGISTRY.table) else None,
            currency=conn.sql("SELECT currency FROM core.analysis_window").fetchone()[0])
        for table, frame in ((USER_SEGMENT, result.user_segment), (PERSONA, result.personas),
                             (PERSONA_K_EVIDENCE, result.evidence), (PERSONA_CENTROIDS, result.centroids),
                             (PERSONA_CHANGES, result.changes), (PERSONA_REGISTRY, result.registry)):
            write_frame(conn, table.table, frame)
        history_rows = replace_rows(conn, USER_SEGMENT_HISTORY.table, result.history_rows(as_of), "as_of")
        chosen = result.evidence.filter(pl.col("chosen"))
        rfm_sizes = dict(result.user_segment.group_by("rfm_segment").len().iter_rows())
        yield materialized(conn, USER_SEGMENT, result.user_segment.height, notes=result.notes,
                           rfm_segments=dg.MetadataValue.json(rfm_sizes))
        yield materialized(conn, PERSONA, result.personas.height, notes=result.notes, personas=dg.MetadataValue.json(
            dict(result.personas.select("persona_name", "users").iter_rows())))
        yield materialized(conn, PERSONA_K_EVIDENCE, result.evidence.height, notes=result.notes,
                           chosen_k=int(chosen["k"][0]) if chosen.height else 0)
        yield materialized(conn, PERSONA_CENTROIDS, result.centroids.height, notes=result.notes)
        yield materialized(conn, PERSONA_CHANGES, result.changes.height, notes=result.notes,
                           statuses=dg.MetadataValue.json(
                               dict(result.changes.group_by("status").len().sort("status").iter_rows())))
        yield materialized(conn, PERSONA_REGISTRY, result.registry.height, notes=result.notes)
        yield materialized(conn, USER_SEGMENT_HISTORY, history_rows, notes=result.notes, as_of=str(as_of))


@table_asset(SEGMENT_MOVEMENT)
def segment_movement(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        movement = read_frame(conn, load_query("segments", "segment_movement"), {"as_of": as_of})
        rows = write_frame(conn, SEGMENT_MOVEMENT.table, movement)
        moved = movement.filter((pl.col("dimension") == "persona") & (pl.col("from_segment") != pl.col("to_segment")))
        return materialized(conn, SEGMENT_MOVEMENT, rows, moved_persona=int(moved["users"].sum()))


RULE_SEGMENT = WarehouseTable(
    key="rule_segment", table="marts.rule_segment", group="marts", deps=("user_profile", "user_segment"),
    grain="One row per analyst-defined segment: name, description, expression, where it is defined, members",
    detail="Definitions in `segments/library/rule_segments.yaml` or FINGROWTH_RULE_SEGMENTS (language: "
           "`docs/segments.md`).", primary_key=("segment",))
USER_RULE_SEGMENT = WarehouseTable(
    key="user_rule_segment", table="marts.user_rule_segment", group="marts", deps=("user_profile", "user_segment"),
    grain="One row per user × matching analyst-defined segment",
    detail="Expressions may use every column of marts.user_profile and persona_id, persona_name, rfm_segment.",
    primary_key=("user_id", "segment"),
    foreign_keys=(PROFILED_USER, ForeignKey(("segment",), "marts.rule_segment")))


@table_asset(RULE_SEGMENT, USER_RULE_SEGMENT, name="rule_segments")
def rule_segments(analysis: AnalysisResource, warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        users = read_frame(conn, load_query("segments", "rule_segment_users"))
        rules_file = Path(analysis.rule_segments) if analysis.rule_segments else DEFAULT_RULES_FILE
        try:
            rules = load_rule_segments(rules_file, users.schema)
        except RuleSegmentError as error:
            raise dg.Failure(description=str(error)) from error
        memberships = apply_rule_segments(users, rules)
        definitions = rule_segment_definitions(rules, memberships)
        write_frame(conn, RULE_SEGMENT.table, definitions)
        rows = write_frame(conn, USER_RULE_SEGMENT.table, memberships)
        yield materialized(conn, RULE_SEGMENT, definitions.height)
        yield materialized(conn, USER_RULE_SEGMENT, rows, segments=dg.MetadataValue.json(
            dict(memberships.group_by("segment").len().sort("segment").iter_rows())))


LIFECYCLE_COUNTS = WarehouseTable(
    key="lifecycle_counts", table="marts.lifecycle_counts", group="marts", kinds=frozenset({"duckdb", "polars"}),
    deps=("analysis_window", "core_purchases", "stg_users"),
    grain="One row per snapshot date (each month end from the first month of purchases, and the as-of date) × lifecycle stage: users in that stage",
    detail="Stages follow the rules in `segments/lifecycle.py`, evaluated with the clocks stopped at each snapshot.",
    primary_key=("snapshot_date", "lifecycle_stage"))


@table_asset(LIFECYCLE_COUNTS)
def lifecycle_counts(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        counts = count_lifecycle_stages(read_frame(conn, load_query("segments", "lifecycle_clocks")))
        rows = write_frame(conn, LIFECYCLE_COUNTS.table, counts)
        return materialized(conn, LIFECYCLE_COUNTS, rows, snapshots=counts["snapshot_date"].n_unique())


SEGMENT_TABLES = [*SEGMENTATION_TABLES, SEGMENT_MOVEMENT, RULE_SEGMENT, USER_RULE_SEGMENT, LIFECYCLE_COUNTS]
segmentation_assets = [segmentation, segment_movement, rule_segments, lifecycle_counts]
