"""The source layout's rules, read from the source itself: no import cycle among the modules of
``homelab/`` and ``components/``, no source module over 400 lines, no Pulumi import in the
config layer (``homelab/config/``), and no module importing another module's private name."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("homelab", "components")
MAX_LINES = 400


def sources() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's packages."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import of a module, at its top level or inside a function."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def imported_modules(node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> Iterator[str]:
    """The project modules an import statement loads: ``from a.b import c`` is ``a.b.c`` when
    that is a module, else ``a.b``."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name in modules)
        return
    if node.level or node.module is None:
        return
    for alias in node.names:
        sub = f"{node.module}.{alias.name}"
        if sub in modules:
            yield sub
        elif node.module in modules:
            yield node.module


def import_graph() -> dict[str, set[str]]:
    modules = sources()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {dep for node in imports(tree) for dep in imported_modules(node, modules) if dep != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in sorted(graph.get(node, ())):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_homelab_and_components() -> None:
    graph = import_graph()
    assert "homelab.config.models" in graph  # the graph is the project's
    assert cycles(graph) == []


def test_no_source_module_over_400_lines() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines()) for path in sources().values()
    }
    over = {path: lines for path, lines in sorted(sizes.items()) if lines > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines: " + ", ".join(f"{p} ({n})" for p, n in over.items())


def test_the_config_layer_imports_nothing_from_pulumi() -> None:
    found = []
    for name, path in sources().items():
        if not name.startswith("homelab.config"):
            continue
        for node in imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{name}:{node.lineno}: {n}" for n in names if n.split(".")[0].startswith("pulumi")]
    assert not found, "the config layer imports Pulumi: " + ", ".join(found)


def test_stack_files_are_read_and_edited_with_one_yaml_library() -> None:
    """The config layer and promote use ruamel only: PyYAML (rendered manifests, charts) would
    read a stack file by other rules than the ones promote writes it back with."""
    found = []
    for name, path in sources().items():
        if not name.startswith(("homelab.config", "homelab.promote")):
            continue
        for node in imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{name}:{node.lineno}: {n}" for n in names if n.split(".")[0] == "yaml"]
    assert not found, "stack-file modules import PyYAML: " + ", ".join(found)


def test_no_private_name_is_imported_across_modules() -> None:
    modules = sources()
    found = []
    for name, path in [*modules.items(), ("__main__", ROOT / "__main__.py")]:
        for node in imports(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level or node.module is None:
                continue
            if node.module.split(".")[0] not in PACKAGES:
                continue
            private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            found += [f"{name}:{node.lineno}: {node.module}.{p}" for p in private]
    assert not found, "private names imported across modules: " + ", ".join(found)
