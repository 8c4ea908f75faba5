"""One run at a time per warehouse file, and one warehouse per staged folder.

DuckDB lets one process write a database file. A second run on the same warehouse would fail deep inside
a step with a lock error, and could leave the first run's step failing too; `exclusive_run` refuses it
before it opens anything, with one sentence naming the run that holds the warehouse. The lock is an
advisory `flock` on `<warehouse>.lock` beside the file, released when the process ends, however it ends.

Staged Parquet partitions live in a folder outside the DuckDB file. Two warehouses writing the same
folder would overwrite each other's staged data without a word; `claim_staged_folder` writes the
warehouse's path into the folder the first time (`_warehouse`) and refuses any other warehouse after.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

OWNER_FILE = "_warehouse"


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse."""


class StagedFolderShared(RuntimeError):
    """The staged folder belongs to another warehouse."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def exclusive_run(warehouse: Path, what: str = "fingrowth run") -> Iterator[None]:
    """Hold the warehouse for the duration of a run.

    Raises:
        WarehouseBusy: another process holds it (the message names its process, host and start time).
    """
    path = lock_path(Path(warehouse))
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 512, 0).decode("utf-8", errors="replace").strip() or "another process"
            raise WarehouseBusy(f"warehouse {warehouse} is in use by {holder}: wait for it to finish, or give this "
                                "run another warehouse (--warehouse)") from None
        started = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{what} (process {os.getpid()} on {socket.gethostname()}, started {started})\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def claim_staged_folder(staged_dir: str | None, warehouse: Path) -> None:
    """Make sure the staged folder is this warehouse's (claiming it when new); object stores are not checked.

    Raises:
        StagedFolderShared: the folder holds another warehouse's staged data.
    """
    if not staged_dir or "://" in staged_dir:
        return
    folder = Path(staged_dir)
    owner = folder / OWNER_FILE
    mine = str(Path(warehouse).absolute())
    if owner.is_file():
        recorded = owner.read_text(encoding="utf-8").strip()
        if recorded and recorded != mine:
            raise StagedFolderShared(
                f"staged folder {folder} holds the staged data of warehouse {recorded}, not {mine}: give each warehouse "
                f"its own folder (FINGROWTH_STAGED_DIR), or delete {owner} if that warehouse is gone")
        if recorded:
            return
    folder.mkdir(parents=True, exist_ok=True)
    owner.write_text(mine + "\n", encoding="utf-8")
