"""What a run could not compute, said plainly: the notes every step attached to its tables, in one table.

Each step that may skip or approximate something attaches a `notes` list to its materializations (the
Dagster UI shows them per asset); this asset, downstream of all of them, collects the latest notes of
each step into `marts.pipeline_notes` for the run summary and the dashboards.
"""

import dagster as dg
import polars as pl

from assets.resources import WarehouseResource
from assets.tables import WarehouseTable, materialized, table_asset
from warehouse import write_frame

# The steps whose tables carry notes, by one of the asset keys they write.
NOTED_KEYS = ("persona", "clv_model", "clv_holdout_tracking", "user_credit_loss", "channel_roi",
              "channel_cohort_roi", "campaign_decisions", "campaign_lift")
PIPELINE_NOTES = WarehouseTable(
    key="pipeline_notes", table="marts.pipeline_notes", group="marts", deps=NOTED_KEYS,
    grain="One row per step × note: what the latest run of that step skipped or approximated, and why",
    detail="`asset` is the step that wrote the note (e.g. `lifetime_value`).")


@table_asset(PIPELINE_NOTES)
def pipeline_notes(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    rows = []
    for key in NOTED_KEYS:
        event = context.instance.get_latest_materialization_event(dg.AssetKey(key))
        if event is None or event.asset_materialization is None:
            continue
        notes = event.asset_materialization.metadata.get("notes")
        rows.extend((event.step_key or key, str(note)) for note in (notes.value if notes is not None else []))
    frame = pl.DataFrame(rows, schema={"asset": pl.String, "note": pl.String}, orient="row")
    with warehouse.connection() as conn:
        return materialized(conn, PIPELINE_NOTES, write_frame(conn, PIPELINE_NOTES.table, frame),
                            notes_by_step=dg.MetadataValue.json(dict(frame.group_by("asset").len().iter_rows())))


NOTES_TABLES = [PIPELINE_NOTES]
notes_assets = [pipeline_notes]
