"""Same arguments give byte-identical files; another seed gives other data."""

from __future__ import annotations

from pathlib import Path

from sampledata import generate_sample_data


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    first = generate_sample_data(tmp_path / "one", users=600, days=45, seed=21)
    second = generate_sample_data(tmp_path / "two", users=600, days=45, seed=21)
    files = snapshot(first.out_dir)
    assert len(files) > 20
    assert files == snapshot(second.out_dir)
    assert first.rows == second.rows and first.dirty_rows == second.dirty_rows


def test_other_seed_gives_other_data(tmp_path: Path) -> None:
    first = generate_sample_data(tmp_path / "one", users=300, days=20, seed=1)
    second = generate_sample_data(tmp_path / "two", users=300, days=20, seed=2)
    assert (first.out_dir / "users.csv").read_bytes() != (second.out_dir / "users.csv").read_bytes()


def test_rerun_into_same_folder_leaves_no_stale_partitions(tmp_path: Path) -> None:
    generate_sample_data(tmp_path, users=200, days=40, seed=4)
    generate_sample_data(tmp_path, users=200, days=10, seed=4)
    assert len(list((tmp_path / "transactions").iterdir())) <= 10
    assert len(list((tmp_path / "events").iterdir())) <= 11
