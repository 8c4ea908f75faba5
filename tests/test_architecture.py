"""One dependency direction: domain libraries never import Dagster, assets never import pipelines."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_PACKAGES = ["ingest", "quality", "warehouse", "segments", "value", "channels", "campaigns", "dashboards", "sampledata"]


def imported_modules(package: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_domain_libraries_never_import_dagster_assets_or_pipelines(package):
    for path, names in imported_modules(package).items():
        assert not names & {"dagster", "dagster_duckdb", "assets", "pipelines"}, f"{path} imports {names & {'dagster', 'assets', 'pipelines'}}"


def test_assets_never_import_pipelines():
    for path, names in imported_modules("assets").items():
        assert "pipelines" not in names, f"{path} imports pipelines: wiring belongs in pipelines/"


def test_only_pipelines_build_definitions():
    for package in ["assets", *DOMAIN_PACKAGES]:
        for path in (ROOT / package).rglob("*.py"):
            assert "Definitions(" not in path.read_text(encoding="utf-8"), f"{path} builds Definitions"
