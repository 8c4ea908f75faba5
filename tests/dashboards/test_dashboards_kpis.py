"""Headline tiles: the mart's values as they are, like-for-like changes read by each metric's direction,
whole users, money in the data's currency, and "no spend data" instead of a zero."""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import pytest

from dashboards.formatting import currency_symbol, format_count, format_money
from dashboards.kpis import EXECUTIVE_TILES, headline_tiles
from dashboards.page_settings import DashboardSettings
from dashboards.pages import executive_page as executive
from dashboards.tiles import tiles_html
from tests.dashboards import synthetic


def _tiles(metric_values: pl.DataFrame, targets: dict | None = None) -> dict:
    return {tile.metric_id: tile for tile in headline_tiles(metric_values, EXECUTIVE_TILES, targets)}


def test_tiles_carry_the_mart_values_and_their_change():
    tiles = _tiles(synthetic.metric_values())

    assert [tile.value for tile in tiles.values()] == [current for current, _ in synthetic.HEADLINE.values()]
    assert tiles["revenue"].change == pytest.approx(190_000 / 180_000 - 1)
    # Shares change in points, not in percent of themselves.
    assert tiles["activation_rate"].change == pytest.approx(0.02)
    assert (tiles["revenue"].start, tiles["revenue"].previous_end) == (date(2026, 10, 1), date(2026, 9, 30))


def test_a_change_is_good_or_bad_by_the_metrics_direction():
    tiles = _tiles(synthetic.metric_values())

    assert tiles["revenue"].change_is_good is True  # up, and higher is better
    assert tiles["cac"].change > 0 and tiles["cac"].change_is_good is False  # up, and lower is better
    assert tiles["month1_retention"].change_is_good is False
    assert tiles["spend"].change_is_good is None  # spending more is neither good nor bad in itself


def test_no_change_against_a_period_the_data_does_not_fully_cover():
    partial = synthetic.metric_values().with_columns(
        pl.when(pl.col("period") == "previous").then(False).otherwise(pl.col("complete")).alias("complete"))

    tiles = _tiles(partial)

    assert all(tile.change is None for tile in tiles.values())
    html = tiles_html(list(tiles.values()), DashboardSettings())
    assert html.count("no like-for-like previous period in the data") == len(tiles)


def test_counts_are_whole_users_and_money_has_the_currency():
    html = tiles_html(headline_tiles(synthetic.metric_values(), EXECUTIVE_TILES), DashboardSettings(currency="USD"))
    values = dict(re.findall(r'data-metric="(\w+)".*?<div class="value">([^<]*)</div>', html))

    assert values["active_users"] == "9,000" and values["new_users"] == "1,800"
    assert values["revenue"] == "$190,000" and values["cac"] == "$120.37"
    assert values["activation_rate"] == "52.0%" and values["ltv_to_cac"] == "7.48×"
    assert format_count(10_717.3) == "10,717"  # never a fraction of a person


def test_without_spend_the_tiles_say_so_instead_of_zero():
    headline = {**synthetic.HEADLINE, "spend": (None, None), "cac": (None, None), "ltv_to_cac": (None, None)}
    html = tiles_html(headline_tiles(synthetic.metric_values(headline), EXECUTIVE_TILES), DashboardSettings())
    values = dict(re.findall(r'data-metric="(\w+)".*?<div class="value">([^<]*)</div>', html))

    assert values["spend"] == values["cac"] == values["ltv_to_cac"] == "no spend data"
    assert "¥0.00" not in html
    assert 'data-metric="spend" data-value=""' in html


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
