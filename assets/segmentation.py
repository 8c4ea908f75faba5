"""Marts: RFM segments and clustering-based personas."""

import dagster as dg
import polars as pl

from assets.notes import replace_notes
from assets.resources import WarehouseResource
from segments import PersonaClusterer, describe_personas, score_rfm
from warehouse import read_frame, write_frame

PERSONA_FEATURES = [
    "txn_count", "monetary_avg", "recency_days", "credit_txn_count", "wealth_txn_count", "payment_txn_count",
    "credit_amount", "wealth_amount", "payment_amount", "events_per_active_day", "active_days", "age", "city_tier",
]
MIN_USERS_TO_CLUSTER = 50


def persona_features(profile: pl.DataFrame) -> pl.DataFrame:
    """Numeric, null-free clustering features: a user who never bought is as far back as their signup."""
    return profile.select(
        "user_id",
        *[pl.col(c).cast(pl.Float64) for c in PERSONA_FEATURES if c not in ("recency_days", "monetary_avg", "age", "city_tier")],
        pl.col("recency_days").fill_null(pl.col("tenure_days")).cast(pl.Float64),
        pl.col("monetary_avg").fill_null(0).cast(pl.Float64),
        pl.col("age").cast(pl.Float64).fill_null(pl.col("age").cast(pl.Float64).median()).fill_null(0),
        pl.col("city_tier").cast(pl.Float64).fill_null(pl.col("city_tier").cast(pl.Float64).median()).fill_null(0),
    )


@dg.multi_asset(
    group_name="marts",
    specs=[
        dg.AssetSpec("user_segment", group_name="marts", deps=["user_profile"], kinds={"duckdb", "scikitlearn"},
                     description="One row per profiled user: persona id and name, RFM scores and segment (marts.user_segment)."),
        dg.AssetSpec("persona", group_name="marts", deps=["user_profile"], kinds={"duckdb"},
                     description="One row per persona: name, description, size, share, distinguishing features (marts.persona)."),
        dg.AssetSpec("persona_k_evidence", group_name="marts", deps=["user_profile"], kinds={"duckdb"},
                     description="One row per candidate number of personas k: silhouette, stability, inertia, chosen (marts.persona_k_evidence)."),
    ],
)
def segmentation(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Score RFM segments, cluster users into personas with an automatic k, and name the personas."""
    notes: list[str] = []
    with warehouse.connection() as conn:
        profile = read_frame(conn, "SELECT * FROM marts.user_profile ORDER BY user_id")
        rfm = score_rfm(profile.with_columns(pl.col("total_amount").cast(pl.Float64)))
        features = persona_features(profile)
        if features.height >= MIN_USERS_TO_CLUSTER:
            clusterer = PersonaClusterer().fit(features, PERSONA_FEATURES)
            labels = clusterer.labels_
            personas = describe_personas(features, labels, PERSONA_FEATURES, scaler=clusterer.scaler_)
            evidence = clusterer.evidence_
        else:
            notes.append(f"personas not computed: {features.height} users, fewer than {MIN_USERS_TO_CLUSTER}")
            labels = pl.Series("persona_id", [None] * features.height, pl.Int64)
            personas = pl.DataFrame(schema={"persona_id": pl.Int64, "persona_name": pl.String, "description": pl.String,
                                            "users": pl.Int64, "share": pl.Float64, "top_features": pl.String})
            evidence = pl.DataFrame(schema={"k": pl.Int64, "silhouette": pl.Float64, "stability": pl.Float64,
                                            "inertia": pl.Float64, "chosen": pl.Boolean})
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


segmentation_assets = [segmentation]
