"""KPI tiles agree with sums and averages taken directly from the daily mart."""

from __future__ import annotations

import polars as pl
import pytest

from dashboards.formatting import currency_symbol, format_money
from dashboards.kpis import compute_kpi_summary
from dashboards.pages import executive_page as executive
from dashboards.page_settings import DashboardSettings
from tests.dashboards import synthetic


def _tiles(kpi_daily: pl.DataFrame, average_ltv: float | None = 1000.0) -> dict:
    return {tile.key: tile for tile in compute_kpi_summary(kpi_daily, average_ltv).tiles}


def test_windows_match_direct_aggregation():
    daily = synthetic.kpi_daily(days=40).sort("date")
    last_7, previous_7, last_30 = daily.tail(7), daily.slice(26, 7), daily.tail(30)
    tiles = _tiles(daily)

    assert tiles["new_users"].last_7_days == last_7["new_users"].sum()
    assert tiles["new_users"].last_30_days == last_30["new_users"].sum()
    assert tiles["active_users"].last_7_days == pytest.approx(last_7["active_users"].mean())
    assert tiles["revenue"].week_over_week == pytest.approx(last_7["revenue"].sum() / previous_7["revenue"].sum() - 1)
    cac_7 = last_7["spend"].sum() / last_7["new_users"].sum()
    assert tiles["cac"].last_7_days == pytest.approx(cac_7)
    assert tiles["ltv_to_cac"].last_7_days == pytest.approx(1000.0 / cac_7)
    assert tiles["cac"].higher_is_better is False


def test_short_history_leaves_windows_empty_instead_of_guessing():
    tiles = _tiles(synthetic.kpi_daily(days=10))

    assert tiles["new_users"].last_7_days is not None
    assert tiles["new_users"].week_over_week is None
    assert tiles["new_users"].last_30_days is None


def test_zero_spend_gives_no_cac():
    tiles = _tiles(synthetic.kpi_daily().with_columns(spend=pl.lit(0.0)), average_ltv=None)

    assert tiles["cac"].last_7_days is None
    assert tiles["ltv_to_cac"].last_7_days is None
    assert tiles["avg_ltv"].last_7_days is None


@pytest.mark.parametrize(("currency", "symbol"), [("CNY", "¥"), ("USD", "$"), ("EUR", "€"), ("XYZ", "XYZ ")])
def test_money_uses_the_data_currency(marts, currency: str, symbol: str):
    assert currency_symbol(currency) == symbol
    assert format_money(1234567.891, currency) == f"{symbol}1,234,568"
    assert format_money(-12.5, currency) == f"-{symbol}12.50"
    sections = executive.build_sections(marts, DashboardSettings(currency=currency))
    money_figures = [
        s.figure
        for s in sections
        if s.figure is not None and s.figure.layout.title.text.startswith(("Transaction", "Channel"))
    ]

    assert len(money_figures) == 2
    assert all(f.layout.yaxis.tickprefix == symbol for f in money_figures)
    tiles = next(s for s in sections if s.body_html).body_html
    assert f'<div class="value">{symbol}' in tiles
