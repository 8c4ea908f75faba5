"""The analysis date: given, or the latest day the data reaches."""

from __future__ import annotations

from datetime import date

AS_OF_GIVEN = "given"
AS_OF_LATEST = "latest timestamp in the data"


class NoDataError(ValueError):
    """There is nothing to analyse."""


def choose_as_of(given: date | None, latest_data_date: date | None) -> tuple[date, str]:
    """The as-of date and why it is that date.

    Raises:
        NoDataError: no date was given and the data has no transaction or event.
    """
    if given is not None:
        return given, AS_OF_GIVEN
    if latest_data_date is not None:
        return latest_data_date, AS_OF_LATEST
    raise NoDataError("no transactions or events to analyse: staged.transactions and staged.events are empty")
