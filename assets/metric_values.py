"""Marts: the headline metrics of the registry (`metrics/registry.yaml`), per period."""

from assets.resources import WarehouseResource
from assets.tables import WarehouseTable, materialized, table_asset
from metrics import default_registry, metric_values as compute_metric_values
from warehouse import write_frame

METRIC_VALUES = WarehouseTable(
    key="metric_values", table="marts.metric_values", group="marts", kinds=frozenset({"duckdb", "polars"}),
    deps=("analysis_window", "kpi_daily", "core_user_activity", "core_purchases", "user_value", "cohort_retention"),
    grain="One row per headline metric × period (`current`: the month to date; `previous`: the same days of the "
          "month before): value, numerator, denominator, whether the data covers the whole period",
    detail="Definitions in `metrics/registry.yaml`, periods in `metrics/periods.py`; a value the data cannot give is "
           "null, never 0. The index and executive pages read their tiles from this table.",
    primary_key=("metric", "period"))


@table_asset(METRIC_VALUES)
def metric_values(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        values = compute_metric_values(conn, default_registry(), as_of)
        rows = write_frame(conn, METRIC_VALUES.table, values)
        known = values.filter(values["value"].is_not_null())["metric"].n_unique()
        return materialized(conn, METRIC_VALUES, rows, metrics_with_a_value=known)


METRIC_TABLES = [METRIC_VALUES]
metric_assets = [metric_values]
