"""One dependency direction: domain libraries never import Dagster, assets never import pipelines."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_PACKAGES = ["activity", "ingest", "quality", "warehouse", "segments", "value", "channels", "campaigns", "dashboards",
                   "sampledata"]


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


PROJECT_PACKAGES = ["activity", "assets", "campaigns", "channels", "dashboards", "ingest", "pipelines", "quality",
                    "sampledata", "segments", "value", "warehouse"]


def project_modules() -> list[Path]:
    return [path for package in PROJECT_PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


def test_only_the_settings_module_reads_the_environment():
    readers = []
    for path in project_modules():
        if path.relative_to(ROOT).as_posix() == "pipelines/settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == [], f"only pipelines/settings.py may read the environment: {readers}"


def test_module_names_say_one_thing_across_the_tree():
    """No two modules share a basename, and no module is named like a package (e.g. assets/dashboards.py)."""
    seen: dict[str, str] = {}
    clashes = []
    for path in project_modules():
        if path.name == "__init__.py":
            continue
        relative = path.relative_to(ROOT).as_posix()
        if path.stem in PROJECT_PACKAGES:
            clashes.append(f"{relative} is named like the package {path.stem}")
        if path.stem in seen:
            clashes.append(f"{relative} and {seen[path.stem]}")
        seen[path.stem] = relative
    assert clashes == []


def test_the_asset_layer_holds_no_sql_longer_than_a_few_lines():
    """Mart SQL lives with its concern, in `<package>/sql/*.sql`; assets keep one-line reads at most."""
    long_sql = []
    for path in sorted((ROOT / "assets").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.strip()
                if text.upper().startswith(("SELECT", "WITH", "CREATE", "INSERT", "UPDATE", "DELETE")) and (
                        text.count("\n") >= 2 or len(text) > 160):
                    long_sql.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert long_sql == []
