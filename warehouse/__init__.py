"""The embedded DuckDB warehouse: connections and frame I/O shared by every layer."""

from warehouse.connection import connect, read_frame, row_count, table_exists, write_frame

__all__ = ["connect", "read_frame", "row_count", "table_exists", "write_frame"]
