"""A throwaway Postgres cluster for the tests: Debian's `postgresql` binaries, a temporary data directory, a free
port on 127.0.0.1, trust authentication for local connections only. Never a mock.

`initdb` refuses to run as root, so as root the cluster is created and run as the `postgres` user the
Debian package installs. `.ci/run` installs the package when it is missing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa


def _bin_dir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("Postgres is not installed: `apt-get install postgresql` (the CI script does it)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_cluster_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster; yields the server URL (`postgresql+psycopg://postgres@127.0.0.1:PORT/postgres`)."""
    binaries = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="fg-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (root, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    subprocess.run(_as_cluster_user([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                     "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    subprocess.run(_as_cluster_user([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                     str(root / "server.log"), "-w", "-t", "60", "start"]), check=True,
                   capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_cluster_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """A new, empty database on the cluster; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    finally:
        engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"
