"""Fixtures shared by the whole suite: one sample warehouse built once per session by `fingrowth run`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pipelines.cli_runner import CliResult, analytics_in_process, run_in_process
from tests.postgres_cluster import postgres_cluster

SAMPLE_USERS, SAMPLE_DAYS, SAMPLE_SEED = 3000, 180, 5


@dataclass(frozen=True)
class SampleRun:
    """A landing folder of generated sample data and the warehouse and dashboards one run made of it."""

    workdir: Path
    result: CliResult

    @property
    def landing(self) -> Path:
        return self.workdir / "landing"

    @property
    def warehouse(self) -> Path:
        return self.workdir / "w.duckdb"

    @property
    def dashboards(self) -> Path:
        return self.workdir / "out" / "dashboards"


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> SampleRun:
    """`fingrowth sample-data` then `fingrowth run`, once for every test that only reads the result.

    Tests that change the warehouse copy the file first (`shutil.copy(sample_run.warehouse, ...)`).
    """
    workdir = tmp_path_factory.mktemp("sample_run")
    generated = run_in_process(["sample-data", "--out", str(workdir / "landing"), "--users", str(SAMPLE_USERS),
                                "--days", str(SAMPLE_DAYS), "--seed", str(SAMPLE_SEED)], workdir)
    assert generated.code == 0, generated.output
    result = analytics_in_process(workdir / "landing", workdir)
    assert result.code == 0, result.output
    return SampleRun(workdir, result)


@pytest.fixture(scope="session")
def postgres_server():
    """A real Postgres server for this test session (one per worker), stopped at the end: its URL."""
    with postgres_cluster() as url:
        yield url


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-graph-snapshot", action="store_true",
                     help="rewrite tests/assets/asset_graph.txt from the current Definitions instead of comparing")
