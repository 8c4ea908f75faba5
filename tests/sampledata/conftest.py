from __future__ import annotations

import pytest

from sampledata import SampleDataSummary, generate_sample_data


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> SampleDataSummary:
    """2,000 users over 30 days with the default 1% dirty rows."""
    return generate_sample_data(tmp_path_factory.mktemp("small"), users=2_000, days=30, seed=11)


@pytest.fixture(scope="session")
def clean_landing(tmp_path_factory: pytest.TempPathFactory) -> SampleDataSummary:
    """4,000 users over 180 days without dirty rows (long enough for loans to charge off)."""
    return generate_sample_data(tmp_path_factory.mktemp("clean"), users=4_000, days=180, seed=3, dirty_fraction=0)
