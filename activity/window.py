"""The analysis date: given, or the latest day the bulk of the data reaches.

By default the as-of date is the local date of the latest transaction or event, except that a lone
outlier never moves it: rows more than `OUTLIER_DAYS` days after the instant by which 99.9% of all
transactions and events had happened are left out of the analysis (they stay staged, and the analysis
window says how many there were and from when). Staging already rejects instants after the run's time
plus a day (`ingest.value_checks`), so this catches the rest: one transaction a year ahead of the others
in a back-filled export, say, which would otherwise make everybody look churned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

from warehouse import load_query

OUTLIER_DAYS = 31
AS_OF_GIVEN = "given"
AS_OF_LATEST = "latest timestamp in the data"


class NoDataError(ValueError):
    """There is nothing to analyse."""


@dataclass(frozen=True)
class DataExtent:
    """How far the transactions and events reach, and what lies beyond the bulk of them."""

    latest: datetime | None
    latest_kept: datetime | None
    outliers: int = 0
    cutoff: datetime | None = None  # outliers are at or after this instant


def data_extent(conn: duckdb.DuckDBPyConnection) -> DataExtent:
    """Read the extent from `staged.transactions` and `staged.events` (one scan, two when there are outliers)."""
    bulk_until, latest = conn.sql(load_query("activity", "data_bulk")).fetchone()
    if latest is None:
        return DataExtent(None, None)
    cutoff = bulk_until + timedelta(days=OUTLIER_DAYS)
    if latest < cutoff:
        return DataExtent(latest, latest)
    latest_kept, outliers = conn.execute(load_query("activity", "data_outliers"), {"cutoff": cutoff}).fetchone()
    return DataExtent(latest, latest_kept, outliers, cutoff)


def choose_as_of(given: date | None, extent: DataExtent) -> tuple[date, str]:
    """The as-of date and why it is that date.

    Args:
        given: the date asked for, if any.
        extent: the data's extent (`data_extent`); DuckDB gives its instants in the session's (business)
            time zone, so their `date()` is the local date.

    Raises:
        NoDataError: no date was given and the data has no transaction or event.
    """
    if given is not None:
        return given, AS_OF_GIVEN
    if extent.latest_kept is None:
        raise NoDataError("no transactions or events to analyse: staged.transactions and staged.events are empty")
    as_of = extent.latest_kept.date()
    if not extent.outliers:
        return as_of, AS_OF_LATEST
    return as_of, (f"{AS_OF_LATEST}, leaving out {extent.outliers:,} row(s) from {extent.cutoff.date()} on, more "
                   f"than {OUTLIER_DAYS} days after 99.9% of the data (the latest on {extent.latest.date()})")
