"""The import graph: no circles, the engine never imports training, every engine module imports alone.

Circles are read from the source (``ast``), function-level imports included: a lazy import that
closes a circle still ties two modules into one. A package's ``__init__`` is not an edge of its
submodules' imports (Python runs it first, but it is not what they depend on).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "training", "installer", "bench")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(f): f
        for pkg in PACKAGES
        for f in sorted((ROOT / pkg).rglob("*.py"))
        if "app_scripts" not in f.parts  # run inside Krita / GIMP, not imported
    }


def _targets(name: str, is_pkg: bool, node: ast.Import | ast.ImportFrom, modules) -> set[str]:
    """The repository modules an import statement loads (the nearest enclosing module of a name)."""

    def nearest(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    if isinstance(node, ast.Import):
        found = {nearest(a.name) for a in node.names}
    else:
        base = node.module or ""
        if node.level:
            pkg = name if is_pkg else name.rpartition(".")[0]
            for _ in range(node.level - 1):
                pkg = pkg.rpartition(".")[0]
            base = f"{pkg}.{base}" if base else pkg
        found = {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else nearest(base) for a in node.names}
    return {m for m in found if m and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        graph[name] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[name] |= _targets(name, path.name == "__init__.py", node, modules)
    return graph


def circles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.add(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


def test_circle_finder_sees_a_lazy_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == {frozenset({"a", "b", "c"})}
    assert circles({"a": {"b"}, "b": set()}) == set()


def test_no_import_circles():
    found = circles(import_graph())
    assert found == set(), f"import circle(s): {[sorted(c) for c in found]}"


def test_engine_never_imports_training_or_bench():
    graph = import_graph()
    for name, targets in graph.items():
        if name.split(".")[0] == "engine":
            bad = sorted(t for t in targets if t.split(".")[0] in ("training", "bench", "installer"))
            assert not bad, f"{name} imports {bad}"


def test_every_engine_module_imports_in_a_fresh_interpreter():
    names = sorted(n for n in _modules() if n.split(".")[0] == "engine")
    code = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {names!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as e:\n"
        "        failed.append(f'{name}: {type(e).__name__}: {e}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_wire_imports_only_itself():
    """engine/wire/ is copied whole into the plug-ins: its modules import each other and the
    standard library only (the vendored copies' own test imports them with numpy blocked)."""
    graph = import_graph()
    wire = sorted(n for n in graph if n.startswith("engine.wire"))
    assert "engine.wire.client" in wire and "engine.wire.schema" in wire
    for name in wire:
        bad = sorted(t for t in graph[name] if not t.startswith("engine.wire"))
        assert not bad, f"{name} imports {bad}"


def test_the_wire_imports_without_numpy_or_the_pipeline():
    """What the installer (any system Python) imports from the engine: ``engine/__init__`` loads
    its public names lazily, so the wire package needs nothing beyond the standard library."""
    code = (
        "import sys\n"
        "sys.modules['numpy'] = None\n"  # any import of numpy now fails
        "import engine.wire.client, engine.wire.local_server\n"
        "import engine.wire.layer_rules, engine.wire.style_pairs, engine.wire.folders\n"
        "assert 'engine.pipeline' not in sys.modules\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
