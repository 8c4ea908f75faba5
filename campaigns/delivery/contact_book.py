"""Contact details from the warehouse's `private.user_contacts`, read-only and only for the batch at hand.

The campaign store never holds an address, a phone number or a push token: delivery asks this book for
the contacts of the batch it is about to send, and planning asks it only whether each person can be
reached on the channel (`reachability`), never for the contact itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import duckdb
import polars as pl

from warehouse import table_exists
from warehouse.sql_files import load_query

# The private contact column each channel needs, and the name of its reason codes (`no_<contact>`).
CONTACT_COLUMN: dict[str, str] = {"email": "email", "sms": "phone", "push": "push_token"}
WarehouseSession = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


def has_column(conn: duckdb.DuckDBPyConnection, column: str) -> bool:
    return conn.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'private' AND table_name = 'user_contacts' "
        "AND column_name = ?", [column]).fetchone()[0] > 0


def reachability(conn: duckdb.DuckDBPyConnection, channel: str) -> pl.DataFrame:
    """Whether each person can be reached on `channel`: `user_id`, `reach` ∈ ok | missing | shared.

    `shared`: the same address (case-insensitive) or number belongs to an earlier user id, which alone gets
    the message (GEN-03). The contact itself never leaves the warehouse.
    """
    column = CONTACT_COLUMN[channel]
    if not table_exists(conn, "private.user_contacts") or not has_column(conn, column):
        return pl.DataFrame(schema={"user_id": pl.String, "reach": pl.String})
    frame = pl.from_arrow(conn.execute(load_query("campaigns", "contact_reachability").format(column=column)).arrow())
    return frame.cast({"user_id": pl.String, "reach": pl.String})


class ContactBook:
    """Reads contacts for one batch at a time through short read-only warehouse sessions."""

    def __init__(self, session: WarehouseSession) -> None:
        self._session = session

    def contacts(self, user_ids: Sequence[str], channel: str) -> pl.DataFrame:
        """`user_id`, `<column>` for the given people with a non-blank contact (one id per contact, the first)."""
        column = CONTACT_COLUMN[channel]
        empty = pl.DataFrame(schema={"user_id": pl.String, column: pl.String})
        if not user_ids:
            return empty
        with self._session() as conn:
            if not table_exists(conn, "private.user_contacts") or not has_column(conn, column):
                return empty
            conn.register("_ids", pl.DataFrame({"user_id": list(user_ids)}, schema={"user_id": pl.String}).to_arrow())
            try:
                frame = pl.from_arrow(conn.execute(
                    f"SELECT c.user_id, trim(CAST(c.{column} AS VARCHAR)) AS {column} FROM private.user_contacts c "
                    f"JOIN _ids USING (user_id) WHERE c.{column} IS NOT NULL "
                    f"AND trim(CAST(c.{column} AS VARCHAR)) <> ''").arrow())
            finally:
                conn.unregister("_ids")
        frame = frame.cast({"user_id": pl.String, column: pl.String})
        # The same address under two ids would get two messages (GEN-03): keep the first id only.
        return (frame.with_columns(pl.col(column).str.to_lowercase().alias("_folded")).sort("user_id")
                .unique("_folded", keep="first").drop("_folded").sort("user_id"))
