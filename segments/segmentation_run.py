"""One segmentation run: RFM segments, personas with an automatic k, and persona identities kept across runs.

`segment_users` is the whole computation as a pure function of the profile, the history length and the
previous run's centroids and registry; the caller reads those from the warehouse and writes the result.
Features: `segments/features.py`; identity matching: `segments/persona_identity.py`; rules: `docs/segments.md`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from segments.clustering import PersonaClusterer
from segments.features import PERSONA_FEATURES, behaviour_features
from segments.persona_identity import CENTROID_SCHEMA, MATCH_SCHEMA, centroid_table, match_personas
from segments.personas import describe_personas
from segments.rfm import score_rfm

MIN_USERS_TO_CLUSTER = 50
# Two clusters only ever split buyers from non-buyers, which is no persona a marketer can act on;
# on the sample data the silhouette of that split beats every finer one whenever it is stable.
PERSONA_K_VALUES = (3, 4, 5, 6, 7, 8)
# RMS distance per feature, in robust standard deviations, beyond which a new cluster is a new persona.
MAX_CENTROID_DISTANCE = 1.0

PERSONA_SCHEMA = {"persona_id": pl.Int64, "persona_name": pl.Utf8, "persona_name_zh": pl.Utf8, "description": pl.Utf8,
                  "description_zh": pl.Utf8, "users": pl.Int64, "share": pl.Float64, "never_bought_share": pl.Float64,
                  "top_features": pl.Utf8, "status": pl.Utf8}
EVIDENCE_SCHEMA = {"k": pl.Int64, "silhouette": pl.Float64, "stability": pl.Float64, "inertia": pl.Float64,
                   "chosen": pl.Boolean}
REGISTRY_SCHEMA = {"persona_id": pl.Int64, "persona_name": pl.Utf8, "persona_name_zh": pl.Utf8,
                   "first_seen_as_of": pl.Date, "last_seen_as_of": pl.Date, "status": pl.Utf8}
HISTORY_COLUMNS = ("as_of", "user_id", "persona_id", "persona_name", "rfm_segment", "lifecycle_stage")


@dataclass(frozen=True)
class SegmentationResult:
    """Every table of one segmentation run (`changes` carries the as-of date)."""

    user_segment: pl.DataFrame
    personas: pl.DataFrame
    evidence: pl.DataFrame
    centroids: pl.DataFrame
    changes: pl.DataFrame
    registry: pl.DataFrame
    notes: list[str] = field(default_factory=list)

    def history_rows(self, as_of: dt.date) -> pl.DataFrame:
        """This run's rows of the per-user history: one per user at `as_of`."""
        return self.user_segment.select(pl.lit(as_of).alias("as_of"), *HISTORY_COLUMNS[1:])


def segment_users(profile: pl.DataFrame, history_days: int, as_of: dt.date,
                  previous_centroids: pl.DataFrame | None, registry: pl.DataFrame | None,
                  currency: str = "CNY") -> SegmentationResult:
    """Score RFM, cluster users into personas, and match the personas to the previous run's.

    Args:
        profile: `marts.user_profile`, one row per user (sorted by user for reproducibility).
        history_days: days of activity history up to the as-of date.
        as_of: the analysis date (persona first/last seen dates).
        previous_centroids: the previous run's `marts.persona_centroids`, None on the first run.
        registry: every persona id ever issued (`marts.persona_registry`), None on the first run.
        currency: ISO code of the data's money, for persona descriptions.

    Returns:
        The tables of the run. With fewer than `MIN_USERS_TO_CLUSTER` users no personas are computed
        (noted), and the previous centroids and registry are kept so identities survive the small run.
    """
    registry = registry if registry is not None else pl.DataFrame(schema=REGISTRY_SCHEMA)
    if "persona_name_zh" not in registry.columns:  # a registry written before names were kept in Chinese too
        registry = registry.with_columns(pl.lit(None, dtype=pl.Utf8).alias("persona_name_zh"))
    registry = registry.select(list(REGISTRY_SCHEMA)).cast(REGISTRY_SCHEMA)
    notes: list[str] = []
    rfm = score_rfm(profile.with_columns(pl.col("total_amount").cast(pl.Float64)))
    features = behaviour_features(profile, int(history_days))
    if features.height >= MIN_USERS_TO_CLUSTER:
        clusterer = PersonaClusterer(k_values=PERSONA_K_VALUES).fit(features, PERSONA_FEATURES)
        next_id = int(registry["persona_id"].max() or 0) + 1
        match = match_personas(previous_centroids, clusterer.cluster_centers_, clusterer.scaler_,
                               MAX_CENTROID_DISTANCE, next_id=next_id)
        labels = pl.Series("persona_id", match.ids).gather(clusterer.labels_ - 1)
        purchased = profile.select(pl.col("txn_count").fill_null(0) > 0).to_series()
        personas = carry_names(
            describe_personas(features, labels, PERSONA_FEATURES, scaler=clusterer.scaler_, purchased=purchased,
                              currency=currency),
            match.changes, registry)
        evidence = clusterer.evidence_
        centroids = centroid_table(clusterer.scaler_, clusterer.cluster_centers_, match.ids)
        changes = match.changes
        registry = updated_registry(registry, personas, changes, as_of)
    else:
        notes.append(f"personas not computed: {features.height} users, fewer than {MIN_USERS_TO_CLUSTER}")
        labels = pl.Series("persona_id", [None] * features.height, pl.Int64)
        personas = pl.DataFrame(schema=PERSONA_SCHEMA)
        evidence = pl.DataFrame(schema=EVIDENCE_SCHEMA)
        changes = pl.DataFrame(schema=MATCH_SCHEMA)
        # Identity of earlier personas survives a run too small to cluster.
        centroids = previous_centroids if previous_centroids is not None else pl.DataFrame(schema=CENTROID_SCHEMA)
    user_segment = (
        features.select("user_id")
        .with_columns(labels.cast(pl.Int64).alias("persona_id"))
        .join(personas.select("persona_id", "persona_name"), on="persona_id", how="left")
        .join(rfm, on="user_id", how="left")
        .join(profile.select("user_id", "lifecycle_stage"), on="user_id", how="left")
    )
    return SegmentationResult(user_segment, personas, evidence, centroids,
                              changes.with_columns(pl.lit(as_of).alias("as_of")), registry, notes)


def carry_names(personas: pl.DataFrame, changes: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """Kept personas keep their registered names (in both languages); a new name equal to a kept one gets its id
    appended."""
    # A name registered before names were generated in both languages (no Chinese name) came from older naming
    # rules, which could name a persona for what few of its members do: it is named afresh, once.
    kept_names = (
        changes.filter(pl.col("status") == "kept").select("persona_id")
        .join(registry.filter(pl.col("persona_name_zh").is_not_null())
              .select("persona_id", pl.col("persona_name").alias("kept_name"),
                      pl.col("persona_name_zh").alias("kept_name_zh")), on="persona_id")
    )
    named = (
        personas.join(kept_names, on="persona_id", how="left")
        .join(changes.select("persona_id", "status"), on="persona_id", how="left")
        .with_columns(pl.coalesce("kept_name", "persona_name").alias("persona_name"),
                      pl.when(pl.col("kept_name").is_not_null()).then(pl.col("kept_name_zh"))
                      .fill_null(pl.col("persona_name_zh")).alias("persona_name_zh"))
    )
    taken = set(named.filter(pl.col("kept_name").is_not_null())["persona_name"].to_list())
    clash = pl.col("kept_name").is_null() & pl.col("persona_name").is_in(list(taken))
    return named.with_columns(
        pl.when(clash).then(pl.format("{} (persona {})", "persona_name", "persona_id"))
        .otherwise(pl.col("persona_name")).alias("persona_name"),
        pl.when(clash).then(pl.format("{}（画像 {}）", "persona_name_zh", "persona_id"))
        .otherwise(pl.col("persona_name_zh")).alias("persona_name_zh"),
    ).select(list(PERSONA_SCHEMA)).sort("persona_id")


def updated_registry(registry: pl.DataFrame, personas: pl.DataFrame, changes: pl.DataFrame,
                     as_of: dt.date) -> pl.DataFrame:
    """Every persona id ever issued: current ones active (seen at `as_of`), vanished ones `gone`."""
    current = personas.select(
        "persona_id", "persona_name", "persona_name_zh", pl.lit(as_of).alias("first_seen_as_of"),
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
