"""Run the real `fingrowth` command, in a subprocess or in this process, with its own Dagster home and no proxy."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import duckdb

from pipelines.cli import main


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_fingrowth(args: list[str], workdir: Path, timeout_seconds: float = 600,
                  extra_env: dict[str, str] | None = None) -> CliResult:
    """`python -m pipelines.cli ARGS` in `workdir`, with DAGSTER_HOME inside it so runs are kept there."""
    home = workdir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("FINGROWTH_")}
    env.update(DAGSTER_HOME=str(home), NO_PROXY="127.0.0.1,localhost", PYTHONUNBUFFERED="1", **(extra_env or {}))
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout_seconds,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def run_analytics(landing: Path, workdir: Path, *extra: str, extra_env: dict[str, str] | None = None) -> CliResult:
    return run_fingrowth(
        ["run", "--data", str(landing), "--warehouse", str(workdir / "w.duckdb"), "--out", str(workdir / "out"), *extra],
        workdir, extra_env=extra_env,
    )


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.sql(sql).fetchall()


def run_in_process(args: list[str], workdir: Path, extra_env: dict[str, str] | None = None) -> CliResult:
    """`fingrowth ARGS` in this process (no interpreter start-up, no re-import of Dagster), in `workdir` with
    no FINGROWTH_ variable from the outer environment, and its output captured.

    Without DAGSTER_HOME and away from the repository's dagster.yaml, the command uses an ephemeral Dagster
    instance: the run is not kept, and no SQLite run storage is written for every event.
    """
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("FINGROWTH_", "SENDGRID_")) and key != "DAGSTER_HOME"}
    env.update(NO_PROXY="127.0.0.1,localhost", **(extra_env or {}))
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env, clear=True), contextlib.chdir(workdir), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return CliResult(code, out.getvalue(), err.getvalue())


def analytics_in_process(landing: Path, workdir: Path, *extra: str,
                         extra_env: dict[str, str] | None = None) -> CliResult:
    return run_in_process(
        ["run", "--data", str(landing), "--warehouse", str(workdir / "w.duckdb"), "--out", str(workdir / "out"), *extra],
        workdir, extra_env=extra_env)
