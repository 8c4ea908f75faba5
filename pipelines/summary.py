"""The end-of-run summary the CLI prints: where everything is, row accounting, marts and notes."""

from __future__ import annotations

from pipelines.settings import Settings
from warehouse import connect, read_frame, table_exists

MART_TABLES = (
    "user_profile", "user_segment", "persona", "clv_model", "user_clv", "cohort_retention", "kpi_daily", "channel_roi",
)


def print_summary(settings: Settings, run_id: str, seconds: float) -> None:
    conn = connect(settings.warehouse, settings.timezone, read_only=True)
    try:
        window = read_frame(conn, "SELECT as_of, as_of_basis, currency FROM core.analysis_window")
        accounting = read_frame(
            conn,
            "SELECT source, present, files, rows_in, rows_staged, rows_quarantined, balanced "
            "FROM quarantine.row_accounting WHERE run_id = ? ORDER BY source",
            [run_id],
        )
        marts = [(t, conn.sql(f"SELECT count(*) FROM marts.{t}").fetchone()[0]) for t in MART_TABLES
                 if table_exists(conn, f"marts.{t}")]
        notes = read_frame(conn, "SELECT asset, note FROM marts.pipeline_notes ORDER BY asset") if table_exists(
            conn, "marts.pipeline_notes") else None
    finally:
        conn.close()

    as_of, basis, currency = window.row(0)
    print(f"\nfingrowth run {run_id} finished in {seconds:.1f}s — as of {as_of} ({basis}), money in {currency}")
    print("\nsources (rows in = staged + quarantined):")
    for source, present, files, rows_in, staged, quarantined, balanced in accounting.iter_rows():
        if not present:
            print(f"  {source:<18} absent")
            continue
        mark = "ok" if balanced else "UNBALANCED"
        print(f"  {source:<18} {rows_in:>11,} = {staged:>11,} + {quarantined:>7,}  ({files} file(s)) {mark}")
    print("\nmarts:")
    for table, rows in marts:
        print(f"  marts.{table:<18} {rows:>11,} rows")
    if notes is not None and notes.height:
        print("\nnotes (skipped or approximated):")
        for asset, note in notes.iter_rows():
            print(f"  - {asset}: {note}")
    print(f"\nwarehouse:   {settings.warehouse}")
    print("quarantine:  quarantine.rejected_rows (file, line, reasons) and quarantine.value_findings (values stored "
          "as null) in the warehouse, by run_id")
    print(f"dashboards:  {settings.dashboards_dir / 'index.html'}")
    if settings.dagster_home:
        print(f"Dagster UI:  run `dagster dev` with DAGSTER_HOME={settings.dagster_home}; this run is in its history")
    else:
        print("Dagster UI:  run `dagster dev` in the repository root; this run is in its history")
