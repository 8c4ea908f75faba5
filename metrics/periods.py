"""The headline periods: the month to date, against the same days of the previous month.

Internet-finance activity follows the calendar month (repayments fall due at month end, salaries arrive at
its start), so a week or a rolling 30 days compared with the one before sets month-end days against ordinary
ones and reads a repayment wave as growth. Calendar months compared day for day do not:

- current: the first day of the as-of date's month to the as-of date;
- previous: the first day of the month before to the same day of that month, or to its last day when the
  as-of date is the last day of its month or that day does not exist in the month before (31 March against
  28 February, 30 June against 31 May), so month ends always face month ends.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Period:
    """An inclusive range of local days."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def month_days(self) -> int:
        """Days in the calendar month the period starts in."""
        return calendar.monthrange(self.start.year, self.start.month)[1]

    @property
    def month_share(self) -> float:
        """The share of its calendar month the period covers (what a monthly target is prorated by)."""
        return self.days / self.month_days


@dataclass(frozen=True)
class HeadlinePeriods:
    current: Period
    previous: Period


def headline_periods(as_of: date) -> HeadlinePeriods:
    """The month to date at `as_of` and the same days of the previous month."""
    current = Period(as_of.replace(day=1), as_of)
    previous_end_of_month = current.start - timedelta(days=1)
    previous_start = previous_end_of_month.replace(day=1)
    month_end = as_of.day == calendar.monthrange(as_of.year, as_of.month)[1]
    previous_end = previous_end_of_month if month_end else previous_start.replace(
        day=min(as_of.day, previous_end_of_month.day))
    return HeadlinePeriods(current, Period(previous_start, previous_end))
