"""The embedded DuckDB warehouse: connections, frame and query I/O, SQL files and table integrity checks."""

from warehouse.connection import (
    connect,
    create_table_as,
    read_frame,
    replace_rows,
    row_count,
    table_exists,
    write_frame,
)
from warehouse.sql_files import load_query

__all__ = ["connect", "create_table_as", "load_query", "read_frame", "replace_rows", "row_count", "table_exists",
           "write_frame"]
