"""The modules of recon/ import one way: no cycle, not even through an import inside a
function (such an import only hides a cycle until the first fresh process hits it). A
package's ``__init__`` counts as imported by every import of its modules.

The folders too: each has a layer (``LAYERS``, drawn in ARCHITECTURE.md), imports only from
below it, and the folders' imports form no loop."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "recon"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every recon module ``path`` imports (at any depth, typing-only imports aside), with
    the packages Python runs on the way (never ``recon`` itself: its import is the factory's
    and runs first anyway)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    typing_only = {id(node) for stmt in tree.body if isinstance(stmt, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(stmt.test) for node in ast.walk(stmt)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            while target and target != "recon":
                if target != name and not name.startswith(target + "."):
                    found.add(target)
                target = target.rpartition(".")[0]
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_no_module_of_recon_imports_itself_back_through_others():
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    graph = {module_name(p): imports_of(p, modules) for p in paths}
    assert sum(len(v) for v in graph.values()) > 300  # the walk sees the real graph
    assert "recon.ssh.executor" in graph["recon.services.routes"] or \
        "recon.ssh.systemctl" in graph["recon.services.routes"]
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


# The layers of recon/, lowest first (ARCHITECTURE.md draws them). A folder imports only from
# a lower layer, or -- among the features, which share one layer -- from another feature, as
# long as the features' imports form no loop. The root package (the factory) wires them all.
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("config",),
    ("db", "ssh"),
    ("web",),
    ("audit",),
    ("auth",),
    ("services", "monitor", "logs", "terminals", "rolling", "notify", "metrics", "onboarding",
     "pages", "liveconfig", "hosts", "recordings"),
    ("jobs", "demo"),
    ("entry",),
]
FEATURES = LAYERS[6]
# core is the part of RECON that knows nothing of the web, the database or SSH.
CORE_MAY_NOT_IMPORT = ("flask", "werkzeug", "sqlalchemy", "flask_sqlalchemy", "paramiko")


def part_of(module: str) -> str:
    """The top-level folder of ``module`` under recon/ (``recon`` for the root package)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "recon"


def folder_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        source = part_of(module_name(path))
        graph.setdefault(source, set())
        for target in imports_of(path, modules):
            if part_of(target) not in (source, "recon"):
                graph[source].add(part_of(target))
    return graph


def layer_breaches(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a folder from a higher layer or a peer it may not import."""
    rank = {folder: i for i, layer in enumerate(LAYERS) for folder in layer}
    breaches = []
    for source, targets in sorted(graph.items()):
        if source == "recon":
            continue
        for target in sorted(targets):
            up = rank[target] > rank[source]
            peer = rank[target] == rank[source] and source not in FEATURES
            if up or peer:
                breaches.append(f"{source} -> {target}")
    return breaches


def test_every_folder_of_recon_has_a_layer():
    folders = {p.name for p in PACKAGE.iterdir()
               if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == {f for layer in LAYERS for f in layer}


def test_folders_import_only_from_lower_layers():
    graph = folder_graph()
    assert "ssh" in graph["services"] and "web" in graph["audit"]  # the walk sees the graph
    assert layer_breaches(graph) == []


def test_the_folders_of_recon_form_no_loop():
    assert cycles(folder_graph()) == []


def test_the_layer_check_finds_an_import_that_runs_up():
    graph = {"ssh": {"config", "web"}, "web": {"ssh"}, "services": {"rolling"},
             "rolling": {"services"}, "db": {"ssh"}, "config": set()}
    assert layer_breaches(graph) == ["db -> ssh", "ssh -> web"]
    assert sorted(cycles(graph)) == [["rolling", "services"], ["ssh", "web"]]


def test_core_knows_nothing_of_the_web_the_database_or_ssh():
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        tree = ast.parse(path.read_text())
        names = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names}
        names |= {node.module or "" for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom)}
        roots = {n.split(".")[0] for n in names}
        assert not roots & {*CORE_MAY_NOT_IMPORT, "recon"}, path
