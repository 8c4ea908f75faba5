"""What a run could not compute, said plainly: one row per asset and note in marts.pipeline_notes."""

import duckdb

NOTES_DDL = "CREATE SCHEMA IF NOT EXISTS marts; CREATE TABLE IF NOT EXISTS marts.pipeline_notes (asset VARCHAR, note VARCHAR)"


def replace_notes(conn: duckdb.DuckDBPyConnection, asset: str, notes: list[str]) -> None:
    """Replace an asset's notes with `notes` (an empty list clears them)."""
    conn.execute(NOTES_DDL)
    conn.execute("DELETE FROM marts.pipeline_notes WHERE asset = ?", [asset])
    for note in notes:
        conn.execute("INSERT INTO marts.pipeline_notes VALUES (?, ?)", [asset, note])
