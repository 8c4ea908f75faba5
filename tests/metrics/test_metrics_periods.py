"""Headline periods: the month to date against the same days of the previous month, month ends facing month ends."""

from datetime import date

import pytest

from metrics import headline_periods


@pytest.mark.parametrize(
    ("as_of", "current", "previous"),
    [
        (date(2026, 6, 30), (date(2026, 6, 1), date(2026, 6, 30)), (date(2026, 5, 1), date(2026, 5, 31))),
        (date(2026, 6, 15), (date(2026, 6, 1), date(2026, 6, 15)), (date(2026, 5, 1), date(2026, 5, 15))),
        (date(2026, 3, 31), (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2026, 3, 30), (date(2026, 3, 1), date(2026, 3, 30)), (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2026, 1, 10), (date(2026, 1, 1), date(2026, 1, 10)), (date(2025, 12, 1), date(2025, 12, 10))),
        (date(2026, 7, 31), (date(2026, 7, 1), date(2026, 7, 31)), (date(2026, 6, 1), date(2026, 6, 30))),
    ],
)
def test_periods(as_of, current, previous):
    periods = headline_periods(as_of)
    assert (periods.current.start, periods.current.end) == current
    assert (periods.previous.start, periods.previous.end) == previous


def test_month_share_prorates_a_monthly_target():
    periods = headline_periods(date(2026, 6, 15))
    assert periods.current.month_share == pytest.approx(15 / 30)
    assert headline_periods(date(2026, 6, 30)).current.month_share == 1.0
