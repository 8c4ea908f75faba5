"""One run per warehouse at a time, and one warehouse per staged folder."""

import subprocess
import sys
import time

import pytest

from warehouse.ownership import (
    StagedFolderShared,
    WarehouseBusy,
    claim_staged_folder,
    exclusive_run,
    lock_path,
)

HOLD = """
import sys, time
from pathlib import Path
from warehouse.ownership import exclusive_run
with exclusive_run(Path(sys.argv[1]), "a test holder"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_holder_is_refused_while_the_first_holds_and_welcome_after(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseBusy, match=r"is in use by a test holder \(process \d+ on .+, started .+\): wait"):
            with exclusive_run(warehouse):
                pass
    finally:
        holder.kill()
        holder.wait()
    # The lock goes with the process, however it ends: the next run is welcome.
    deadline = time.monotonic() + 10
    while True:
        try:
            with exclusive_run(warehouse, "the next run"):
                assert "the next run" in lock_path(warehouse).read_text()
            break
        except WarehouseBusy:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert lock_path(warehouse).read_text() == ""


def test_a_staged_folder_is_claimed_once_and_refused_to_another_warehouse(tmp_path):
    staged = tmp_path / "staged"
    claim_staged_folder(str(staged), tmp_path / "a.duckdb")
    claim_staged_folder(str(staged), tmp_path / "a.duckdb")  # the owner again: fine
    with pytest.raises(StagedFolderShared, match=r"holds the staged data of warehouse .*a\.duckdb, not .*b\.duckdb"):
        claim_staged_folder(str(staged), tmp_path / "b.duckdb")
    claim_staged_folder("s3://bucket/staged", tmp_path / "b.duckdb")  # object stores are not checked
    claim_staged_folder(None, tmp_path / "b.duckdb")
