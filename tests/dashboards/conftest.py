"""Fixtures for dashboard tests: synthetic marts and a headless Chromium session."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest
from selenium import webdriver

from tests.dashboards import synthetic
from tests.dashboards.browser import headless_chromium, require_chromium


@pytest.fixture
def marts() -> dict[str, pl.DataFrame]:
    return synthetic.all_marts()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    try:
        require_chromium()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    with headless_chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver
