"""Marts: RFM segments, clustering-based personas with identities kept across runs, their history, and rule-based segments."""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.notes import replace_notes
from assets.resources import AnalysisResource, WarehouseResource
from segments import PersonaClusterer, describe_personas, score_rfm
from segments.features import PERSONA_FEATURES, behaviour_features
from segments.identity import CENTROID_SCHEMA, MATCH_SCHEMA, centroid_table, match_personas
from segments.rule_segments import DEFAULT_RULES_FILE, RuleSegmentError, apply_rule_segments, load_rule_segments
from warehouse import read_frame, table_exists, write_frame

MIN_USERS_TO_CLUSTER = 50
# Two clusters only ever split buyers from non-buyers, which is no persona a marketer can act on;
# on the sample data the silhouette of that split beats every finer one whenever it is stable.
PERSONA_K_VALUES = (3, 4, 5, 6, 7, 8)
# RMS distance per feature, in robust standard deviations, beyond which a new cluster is a new persona.
MAX_CENTROID_DISTANCE = 1.0

WINDOW_SQL = """
SELECT w.as_of, w.as_of - coalesce(min(a.activity_date), w.as_of) + 1 AS history_days
FROM core.analysis_window w LEFT JOIN core.user_activity a ON a.activity_date <= w.as_of
GROUP BY w.as_of
"""
PERSONA_SCHEMA = {"persona_id": pl.Int64, "persona_name": pl.Utf8, "description": pl.Utf8, "users": pl.Int64,
                  "share": pl.Float64, "top_features": pl.Utf8, "status": pl.Utf8}
EVIDENCE_SCHEMA = {"k": pl.Int64, "silhouette": pl.Float64, "stability": pl.Float64, "inertia": pl.Float64,
                   "chosen": pl.Boolean}
REGISTRY_SCHEMA = {"persona_id": pl.Int64, "persona_name": pl.Utf8, "first_seen_as_of": pl.Date,
                   "last_seen_as_of": pl.Date, "status": pl.Utf8}
HISTORY_DDL = """
CREATE TABLE IF NOT EXISTS marts.user_segment_history (
    as_of DATE, user_id VARCHAR, persona_id BIGINT, persona_name VARCHAR, rfm_segment VARCHAR, lifecycle_stage VARCHAR)
"""
# Users seen at both the previous and the current as-of date, counted by where they were and where they are.
MOVEMENT_SQL = """
WITH dates AS (
    SELECT max(as_of) FILTER (WHERE as_of < ?) AS from_as_of, ?::DATE AS to_as_of
    FROM marts.user_segment_history
),
pairs AS (
    SELECT d.from_as_of, d.to_as_of, a.persona_id AS from_persona, b.persona_id AS to_persona,
           a.rfm_segment AS from_rfm, b.rfm_segment AS to_rfm
    FROM dates d
    JOIN marts.user_segment_history a ON a.as_of = d.from_as_of
    JOIN marts.user_segment_history b ON b.as_of = d.to_as_of AND b.user_id = a.user_id
)
SELECT 'persona' AS dimension, from_as_of, to_as_of, CAST(from_persona AS VARCHAR) AS from_segment,
       CAST(to_persona AS VARCHAR) AS to_segment, count(*) AS users
FROM pairs GROUP BY ALL
UNION ALL
SELECT 'rfm_segment', from_as_of, to_as_of, from_rfm, to_rfm, count(*) FROM pairs GROUP BY ALL
ORDER BY dimension, from_segment, to_segment
"""


@dg.multi_asset(
    group_name="marts",
    specs=[
        dg.AssetSpec("user_segment", group_name="marts", deps=["user_profile", "core_user_activity"],
                     kinds={"duckdb", "scikitlearn"},
                     description="One row per profiled user: persona id and name, RFM scores and segment (marts.user_segment)."),
        dg.AssetSpec("persona", group_name="marts", deps=["user_profile"], kinds={"duckdb"},
                     description="One row per persona: name, description, size, share, distinguishing features, "
                                 "kept or new since the previous run (marts.persona)."),
        dg.AssetSpec("persona_k_evidence", group_name="marts", deps=["user_profile"], kinds={"duckdb"},
                     description="One row per candidate number of personas k: silhouette, stability, inertia, chosen (marts.persona_k_evidence)."),
        dg.AssetSpec("persona_centroids", group_name="marts", deps=["user_profile"], kinds={"duckdb"},
                     description="One row per current persona × feature: centroid in original and scaled units; "
                                 "the next run matches its clusters to these (marts.persona_centroids)."),
        dg.AssetSpec("persona_changes", group_name="marts", deps=["user_profile"], kinds={"duckdb"},
                     description="One row per persona of this or the previous run: kept, new or gone, with the centroid "
                                 "distance of the match (marts.persona_changes); every id ever issued is in marts.persona_registry."),
        dg.AssetSpec("user_segment_history", group_name="marts", deps=["user_profile"], kinds={"duckdb"},
                     description="One row per user per as-of date: persona and RFM segment (marts.user_segment_history), "
                                 "and the movement since the previous as-of date (marts.segment_movement)."),
    ],
)
def segmentation(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Score RFM segments, cluster users into personas with an automatic k, keep persona ids across runs, record history.

    Features: `segments/features.py`; identity matching: `segments/identity.py`; rules: `docs/segments.md`.
    """
    notes: list[str] = []
    with warehouse.connection() as conn:
        profile = read_frame(conn, "SELECT * FROM marts.user_profile ORDER BY user_id")
        as_of, history_days = conn.sql(WINDOW_SQL).fetchone()
        rfm = score_rfm(profile.with_columns(pl.col("total_amount").cast(pl.Float64)))
        features = behaviour_features(profile, int(history_days))
        if features.height >= MIN_USERS_TO_CLUSTER:
            clusterer = PersonaClusterer(k_values=PERSONA_K_VALUES).fit(features, PERSONA_FEATURES)
            previous = read_frame(conn, "SELECT * FROM marts.persona_centroids") \
                if table_exists(conn, "marts.persona_centroids") else None
            registry = read_frame(conn, "SELECT * FROM marts.persona_registry") \
                if table_exists(conn, "marts.persona_registry") else pl.DataFrame(schema=REGISTRY_SCHEMA)
            next_id = int(registry["persona_id"].max() or 0) + 1
            match = match_personas(previous, clusterer.cluster_centers_, clusterer.scaler_, MAX_CENTROID_DISTANCE,
                                   next_id=next_id)
            labels = pl.Series("persona_id", match.ids).gather(clusterer.labels_ - 1)
            personas = _carry_names(
                describe_personas(features, labels, PERSONA_FEATURES, scaler=clusterer.scaler_), match.changes, registry)
            evidence = clusterer.evidence_
            centroids = centroid_table(clusterer.scaler_, clusterer.cluster_centers_, match.ids)
            changes = match.changes
            write_frame(conn, "marts.persona_centroids", centroids)
            write_frame(conn, "marts.persona_registry", _updated_registry(registry, personas, changes, as_of))
        else:
            notes.append(f"personas not computed: {features.height} users, fewer than {MIN_USERS_TO_CLUSTER}")
            labels = pl.Series("persona_id", [None] * features.height, pl.Int64)
            personas = pl.DataFrame(schema=PERSONA_SCHEMA)
            evidence = pl.DataFrame(schema=EVIDENCE_SCHEMA)
            changes = pl.DataFrame(schema=MATCH_SCHEMA)
            # Identity of earlier personas survives a run too small to cluster.
            centroids = _existing_or_empty(conn, "marts.persona_centroids", CENTROID_SCHEMA)
        user_segment = (
            features.select("user_id")
            .with_columns(labels.cast(pl.Int64).alias("persona_id"))
            .join(personas.select("persona_id", "persona_name"), on="persona_id", how="left")
            .join(rfm, on="user_id", how="left")
            .join(profile.select("user_id", "lifecycle_stage"), on="user_id", how="left")
        )
        write_frame(conn, "marts.user_segment", user_segment)
        write_frame(conn, "marts.persona", personas)
        write_frame(conn, "marts.persona_k_evidence", evidence)
        write_frame(conn, "marts.persona_changes", changes.with_columns(pl.lit(as_of).alias("as_of")))
        history_rows = _record_history(conn, user_segment, as_of)
        movement = read_frame(conn, MOVEMENT_SQL, [as_of, as_of])
        write_frame(conn, "marts.segment_movement", movement)
        replace_notes(conn, "segmentation", notes)
    chosen = evidence.filter(pl.col("chosen"))
    yield dg.MaterializeResult(asset_key="user_segment", metadata={
        "dagster/row_count": user_segment.height,
        "rfm_segments": dg.MetadataValue.json(dict(rfm.group_by("rfm_segment").len().iter_rows()))})
    yield dg.MaterializeResult(asset_key="persona", metadata={
        "dagster/row_count": personas.height,
        "personas": dg.MetadataValue.json(dict(personas.select("persona_name", "users").iter_rows()))})
    yield dg.MaterializeResult(asset_key="persona_k_evidence", metadata={
        "dagster/row_count": evidence.height,
        "chosen_k": int(chosen["k"][0]) if chosen.height else 0})
    yield dg.MaterializeResult(asset_key="persona_centroids", metadata={"dagster/row_count": centroids.height})
    yield dg.MaterializeResult(asset_key="persona_changes", metadata={
        "dagster/row_count": changes.height,
        "statuses": dg.MetadataValue.json(dict(changes.group_by("status").len().sort("status").iter_rows()))})
    yield dg.MaterializeResult(asset_key="user_segment_history", metadata={
        "dagster/row_count": history_rows, "as_of": str(as_of),
        "moved_persona": int(movement.filter((pl.col("dimension") == "persona")
                                             & (pl.col("from_segment") != pl.col("to_segment")))["users"].sum())})


@dg.asset(group_name="marts", kinds={"duckdb", "polars"}, deps=["user_profile", "user_segment"])
def user_rule_segment(analysis: AnalysisResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per user × matching analyst-defined segment (marts.user_rule_segment); definitions in `segments/library/rule_segments.yaml` or FINGROWTH_RULE_SEGMENTS.

    Expressions may use every column of marts.user_profile and persona_id, persona_name, rfm_segment (language: `docs/segments.md`).
    """
    with warehouse.connection() as conn:
        users = read_frame(
            conn,
            "SELECT p.*, s.persona_id, s.persona_name, s.rfm_segment FROM marts.user_profile p "
            "LEFT JOIN marts.user_segment s USING (user_id) ORDER BY p.user_id",
        )
        rules_file = Path(analysis.rule_segments_file) if analysis.rule_segments_file else DEFAULT_RULES_FILE
        try:
            rules = load_rule_segments(rules_file, users.schema)
        except RuleSegmentError as error:
            raise dg.Failure(description=str(error)) from error
        memberships = apply_rule_segments(users, rules)
        write_frame(conn, "marts.user_rule_segment", memberships)
        write_frame(conn, "marts.rule_segment", pl.DataFrame(
            [{"segment": r.name, "description": r.description, "where": r.where, "source": f"{r.source.name}:{r.line}"}
             for r in rules],
            schema={"segment": pl.Utf8, "description": pl.Utf8, "where": pl.Utf8, "source": pl.Utf8},
        ).join(memberships.group_by("segment").len("users"), on="segment", how="left")
            .with_columns(pl.col("users").fill_null(0).cast(pl.Int64)))
    sizes = memberships.group_by("segment").len().sort("segment")
    return dg.MaterializeResult(metadata={"dagster/row_count": memberships.height,
                                          "segments": dg.MetadataValue.json(dict(sizes.iter_rows()))})


def _carry_names(personas: pl.DataFrame, changes: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """Kept personas keep their registered names; a new name equal to a kept one gets its id appended."""
    kept_names = (
        changes.filter(pl.col("status") == "kept").select("persona_id")
        .join(registry.select("persona_id", pl.col("persona_name").alias("kept_name")), on="persona_id")
    )
    named = (
        personas.join(kept_names, on="persona_id", how="left")
        .join(changes.select("persona_id", "status"), on="persona_id", how="left")
        .with_columns(pl.coalesce("kept_name", "persona_name").alias("persona_name"))
    )
    taken = set(named.filter(pl.col("kept_name").is_not_null())["persona_name"].to_list())
    return named.with_columns(
        pl.when(pl.col("kept_name").is_null() & pl.col("persona_name").is_in(list(taken)))
        .then(pl.format("{} (persona {})", "persona_name", "persona_id"))
        .otherwise(pl.col("persona_name")).alias("persona_name")
    ).select(list(PERSONA_SCHEMA)).sort("persona_id")


def _updated_registry(registry: pl.DataFrame, personas: pl.DataFrame, changes: pl.DataFrame,
                      as_of: dt.date) -> pl.DataFrame:
    current = personas.select(
        "persona_id", "persona_name", pl.lit(as_of).alias("first_seen_as_of"),
        pl.lit(as_of).alias("last_seen_as_of"), pl.lit("active").alias("status"))
    gone = changes.filter(pl.col("status") == "gone")["persona_id"]
    earlier = registry.filter(~pl.col("persona_id").is_in(current["persona_id"].implode()))
    first_seen = registry.select("persona_id", pl.col("first_seen_as_of").alias("first"))
    return pl.concat([
        earlier.with_columns(
            pl.when(pl.col("persona_id").is_in(gone.implode())).then(pl.lit("gone"))
            .otherwise(pl.col("status")).alias("status")),
        current.join(first_seen, on="persona_id", how="left")
        .with_columns(pl.coalesce("first", "first_seen_as_of").alias("first_seen_as_of")).drop("first"),
    ]).cast(REGISTRY_SCHEMA).sort("persona_id")


def _record_history(conn: duckdb.DuckDBPyConnection, user_segment: pl.DataFrame, as_of: dt.date) -> int:
    """Replace this as-of date's rows of marts.user_segment_history; earlier dates stay."""
    conn.execute(HISTORY_DDL)
    rows = user_segment.select(pl.lit(as_of).alias("as_of"), "user_id", "persona_id", "persona_name", "rfm_segment",
                               "lifecycle_stage")
    conn.execute("DELETE FROM marts.user_segment_history WHERE as_of = ?", [as_of])
    conn.register("_history_rows", rows.to_arrow())
    try:
        conn.execute("INSERT INTO marts.user_segment_history SELECT * FROM _history_rows")
    finally:
        conn.unregister("_history_rows")
    return rows.height


def _existing_or_empty(conn: duckdb.DuckDBPyConnection, table: str, schema: dict) -> pl.DataFrame:
    if table_exists(conn, table):
        return read_frame(conn, f"SELECT * FROM {table}")
    empty = pl.DataFrame(schema=schema)
    write_frame(conn, table, empty)
    return empty


segmentation_assets = [segmentation, user_rule_segment]
