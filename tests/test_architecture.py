"""One dependency direction: domain libraries never import Dagster, assets never import pipelines."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_PACKAGES = ["activity", "ingest", "quality", "warehouse", "segments", "value", "channels", "campaigns", "dashboards",
                   "sampledata", "file_schemas", "metrics"]


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


PROJECT_PACKAGES = ["assets", "ingest", "quality", "warehouse", "segments", "value", "channels", "campaigns",
                    "dashboards", "sampledata", "pipelines", "activity", "file_schemas", "metrics"]


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules(root: Path = ROOT, packages: list[str] = PROJECT_PACKAGES) -> dict[str, Path]:
    return {module_name(path, root): path for package in packages if (root / package).is_dir()
            for path in (root / package).rglob("*.py")}


def import_graph(root: Path = ROOT, packages: list[str] = PROJECT_PACKAGES) -> dict[str, set[str]]:
    """Module → the project modules it imports anywhere in its file, inside functions too."""
    modules = project_modules(root, packages)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(resolve(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                # `from a import b` imports the module a.b when there is one, else names from a.
                targets.update(resolve(f"{base}.{alias.name}") if f"{base}.{alias.name}" in modules
                               else resolve(base) for alias in node.names)
        graph[name] = {target for target in targets if target and target != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_import_graph_finds_a_cycle_hidden_in_a_function(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.sub import b\n")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("from . import c\n")
    (tmp_path / "pkg" / "sub" / "c.py").write_text("def later():\n    from pkg import a\n")
    (tmp_path / "pkg" / "d.py").write_text("import pkg.a\n")
    graph = import_graph(tmp_path, ["pkg"])
    assert graph["pkg.sub.c"] == {"pkg.a"} and graph["pkg.d"] == {"pkg.a"}
    assert import_cycles(graph) == [["pkg.a", "pkg.sub.b", "pkg.sub.c"]]
    # The real graph sees imports inside functions too.
    assert "pipelines.definitions" in import_graph()["pipelines.cli.analytics_commands"]


def test_no_import_cycle_anywhere_in_the_project_including_imports_inside_functions():
    assert import_cycles(import_graph()) == []


def test_only_the_command_line_imports_the_command_line():
    graph = import_graph()
    importers = sorted(name for name, targets in graph.items()
                       if any(t == "pipelines.cli" or t.startswith("pipelines.cli.") for t in targets)
                       and not (name == "pipelines.cli" or name.startswith("pipelines.cli.")))
    assert importers == []
    # The suite's own harness runs the command line in process (tests/pipelines/cli_runner.py); nothing else may.
    harness = ROOT / "tests" / "pipelines" / "cli_runner.py"
    for path in [*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]:
        if path == harness:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "pipelines.cli" or n.startswith("pipelines.cli.") for n in names), path


def test_module_names_say_one_thing_across_the_tree():
    """No two modules share a basename, and no module is named like a package (e.g. assets/dashboards.py)."""
    seen: dict[str, str] = {}
    clashes = []
    for path in sorted(project_modules().values()):
        if path.name == "__init__.py":
            continue
        relative = path.relative_to(ROOT).as_posix()
        if path.stem in PROJECT_PACKAGES:
            clashes.append(f"{relative} is named like the package {path.stem}")
        if path.stem in seen:
            clashes.append(f"{relative} and {seen[path.stem]}")
        seen[path.stem] = relative
    assert clashes == []


def test_only_the_settings_module_reads_the_environment():
    readers = []
    for path in sorted(project_modules().values()):
        if path.relative_to(ROOT).as_posix() == "pipelines/settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == [], f"only pipelines/settings.py may read the environment: {readers}"


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


def test_test_module_names_are_unique():
    seen: dict[str, list[str]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
    for folder in {path.parent for path in (ROOT / "tests").rglob("*.py")}:
        assert (folder / "__init__.py").is_file(), f"{folder} has no __init__.py"


def test_importing_campaigns_loads_no_dagster():
    probe = "import sys, campaigns; print(sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'pipelines', 'assets')))"
    completed = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


CAMPAIGN_LAYERS = ["campaigns.campaign_errors", "campaigns.definitions", "campaigns.content", "campaigns.eligibility",
                   "campaigns.store",
                   "campaigns.governance", "campaigns.delivery", "campaigns.results", "campaigns.service"]


def test_campaign_layers_only_import_the_layers_below_them():
    def layer(module: str) -> int | None:
        return next((i for i, name in enumerate(CAMPAIGN_LAYERS) if module == name or module.startswith(name + ".")),
                    None)

    upward = sorted((source, target) for source, targets in import_graph().items() if layer(source) is not None
                    for target in targets if layer(target) is not None and layer(target) > layer(source))
    assert upward == []
