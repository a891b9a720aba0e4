"""The import graph of src/modelcards: lower stages never know about higher ones, and nothing imports in a circle.

Imports are read with ``ast`` from the source files, so every import counts: at the top of a module, inside a
function (the lazy imports of heavy or optional parts), relative or absolute, and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = "modelcards"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE
# The core stages, and what they must never import: the site layer and the two edges.
CORE = ("cards", "cache_upkeep", "importers", "sources", "linking", "catalog", "lineage", "explain", "history", "git", "policy", "frozen",
        "waivers", "crosswalk", "compare", "monitoring", "export", "audience")
HIGHER = ("site", "cli", "plugin", "page_cache")


def module_name(path: Path, source: Path = SOURCE) -> str:
    parts = [source.name, *path.relative_to(source).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, source: Path = SOURCE) -> set[str]:
    """Every module of the package that ``path`` imports, wherever the import statement stands.

    ``from a import b`` counts as importing ``a.b`` when that is a module of the package, else ``a``.
    """
    name = module_name(path, source)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    modules = {module_name(p, source) for p in source.rglob("*.py")}
    return {module for module in found if module in modules and module != name}


def import_graph(source: Path = SOURCE) -> dict[str, set[str]]:
    return {module_name(path, source): imported_modules(path, source) for path in sorted(source.rglob("*.py"))}


def _is_under(module: str, parts: tuple[str, ...]) -> bool:
    return any(module == f"{PACKAGE}.{part}" or module.startswith(f"{PACKAGE}.{part}.") for part in parts)


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{module} imports {target}" for module, targets in graph.items() if _is_under(module, CORE)
                  for target in targets if _is_under(target, HIGHER))


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle (its modules, the first repeated at the end), or [] when there is none."""
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        return error.args[1]
    return []


def test_core_stages_import_neither_the_site_nor_the_edges():
    assert layer_violations(import_graph()) == []


def test_src_has_no_import_cycle():
    assert cycle(import_graph()) == []


def test_the_graph_is_read_from_the_real_package():
    graph = import_graph()
    # A top-level import, a relative one, and lazy ones inside functions.
    assert "modelcards.catalog" in graph["modelcards.lineage.graph"]
    assert "modelcards.site.pages" in graph["modelcards.build"]  # imported inside generate_site
    assert "modelcards.sources.dvc" in graph["modelcards.sources.load"]  # imported inside a reader
    assert "modelcards.site.paths" in graph["modelcards.plugin"]


@pytest.mark.parametrize(("code", "expected"), [
    ("from ..site import paths\n", "modelcards.lineage.graph imports modelcards.site.paths"),
    ("from ..site.paths import node_target\n", "modelcards.lineage.graph imports modelcards.site.paths"),
    ("def later():\n    from modelcards import cli\n", "modelcards.lineage.graph imports modelcards.cli"),
    ("def later():\n    import modelcards.plugin\n", "modelcards.lineage.graph imports modelcards.plugin"),
    ("if False:\n    from .. import site\n", "modelcards.lineage.graph imports modelcards.site"),
])
def test_the_check_fails_when_lineage_imports_the_site_or_an_edge(tmp_path: Path, code: str, expected: str):
    """The same check over a copy of the package with one import added to lineage/graph.py."""
    copy = _copy_of_package(tmp_path)
    graph_py = copy / "lineage" / "graph.py"
    graph_py.write_text(graph_py.read_text(encoding="utf-8") + "\n\n" + code, encoding="utf-8")
    assert expected in layer_violations(import_graph(copy))


def test_the_check_finds_a_cycle_made_by_a_lazy_import(tmp_path: Path):
    copy = _copy_of_package(tmp_path)
    compute = copy / "explain" / "compute.py"
    compute.write_text(compute.read_text(encoding="utf-8")
                       + "\n\ndef cached():\n    from .cache import ExplanationCache\n", encoding="utf-8")
    assert sorted(set(cycle(import_graph(copy)))) == ["modelcards.explain.cache", "modelcards.explain.compute"]


def _copy_of_package(tmp_path: Path) -> Path:
    copy = tmp_path / PACKAGE
    for path in SOURCE.rglob("*.py"):
        target = copy / path.relative_to(SOURCE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return copy
