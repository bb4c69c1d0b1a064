"""The house: imports point one way, no module imports one that imports it back, sizes fit a head.

The import graph is read from the source (``ast``), lazy imports inside functions included, plus
``importlib.import_module("cpsim....")`` calls and the facade's lazy name table. An import of
``a.b.c`` also runs the ``__init__`` of ``a.b``: that edge counts too, except towards the
importing module's own packages (a package's children are imported by it, as Python intends).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import cpsim

PACKAGE = Path(cpsim.__file__).parent
ROOT = PACKAGE.parent

# Layers, lowest first: a module may import its own room and any lower layer, never a higher one,
# and never another room of the same rank (sim and io know nothing of each other). The base
# modules are one room: tables with sources, SI helpers, exceptions, Waveform.
BASE = ("cpsim._version", "cpsim.errors", "cpsim.units", "cpsim.standard", "cpsim.waveform", "cpsim.outputs",
        "cpsim.display")
LAYERS: dict[str, int] = {
    **dict.fromkeys(BASE, 0),
    "cpsim.sim": 1, "cpsim.io": 1,
    "cpsim.analysis": 2,
    "cpsim.diagnose": 3,
    "cpsim.study": 4,
    "cpsim.plot": 5,
    "cpsim.report": 6,
    "cpsim.cli": 7,
    "cpsim.demo": 8,
}


def _modules() -> dict[str, tuple[Path, bool]]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        mods[".".join(parts)] = (path, is_pkg)
    return mods


MODULES = _modules()


def _targets(module: str, is_pkg: bool, node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".") if is_pkg else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    # `from pkg import name`: the submodule pkg.name if there is one, else pkg itself
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]


def _imports(module: str) -> set[str]:
    path, is_pkg = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(_targets(module, is_pkg, node))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args and isinstance(node.args[0], ast.Constant)):
            found.add(node.args[0].value)
        elif (module == "cpsim" and isinstance(node, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets)):
            found.update(v.value for v in node.value.values)  # the facade's lazy names
    edges = set()
    for target in found:
        if not target.startswith("cpsim"):
            continue
        parts = target.split(".")
        for k in range(2, len(parts) + 1):  # the packages on the way run their __init__ too
            name = ".".join(parts[:k])
            if name in MODULES and name != module and not module.startswith(name + "."):
                edges.add(name)
    return edges


GRAPH = {m: _imports(m) for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _layer(module: str) -> tuple[str, int]:
    """(room, rank) of a module: its top-level package, or "base"."""
    for name in sorted(LAYERS, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return ("base" if name in BASE else name), LAYERS[name]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_the_checker_sees_imports_of_every_kind():
    # a lazy import inside a function, a `from .. import submodule`, and the facade's lazy table
    assert "cpsim.io" in GRAPH["cpsim.analysis.measurement"]            # `from ..io import read_capture` in a function
    assert "cpsim.standard" in GRAPH["cpsim.analysis.states"]       # `from .. import standard as std`
    assert "cpsim.study.runner" in GRAPH["cpsim"]                   # _LAZY["run_montecarlo"]
    assert "cpsim.analysis" in GRAPH["cpsim.diagnose.cp"]           # `..analysis.states` runs analysis/__init__
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_imports_point_one_way():
    wrong = []
    for module, targets in GRAPH.items():
        if module == "cpsim":  # the facade names everything, lazily
            continue
        home, rank = _layer(module)
        for target in targets:
            if target == "cpsim":
                wrong.append(f"{module} imports the facade `cpsim`: import the defining module instead")
                continue
            there, their_rank = _layer(target)
            if their_rank > rank or (their_rank == rank and there != home):
                wrong.append(f"{module} (layer {home}) imports {target} (layer {there})")
    assert wrong == []


def test_every_module_is_importable_alone():
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
    subprocess.run([sys.executable, "-c", code, *sorted(m for m in MODULES if m != "cpsim.cli.__main__")],
                   check=True, cwd=ROOT)


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(ROOT)}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.end_lineno - n.lineno + 1 > 100]


def test_sizes_fit_a_head():
    long_modules = [f"{p.relative_to(ROOT)} ({n} lines)" for p, _ in MODULES.values()
                    if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500]
    long_functions = [f for p, _ in MODULES.values() for f in _long_functions(p)]
    assert long_modules == [] and long_functions == []


@pytest.mark.parametrize("name", sorted(set(cpsim.__all__)))
def test_every_facade_name_resolves(name):
    value = getattr(cpsim, name)
    assert value is not None
    if name in cpsim._LAZY and name not in cpsim._SUBMODULES:
        module = importlib.import_module(cpsim._LAZY[name])
        assert getattr(module, name) is value


def test_the_cli_and_the_study_machinery_live_in_their_rooms():
    assert not (PACKAGE / "cli.py").exists() and (PACKAGE / "cli" / "main.py").is_file()
    assert not any(m.startswith("cpsim.sim.") and m.split(".")[-1] in ("batch", "corners", "engines", "variations")
                   for m in MODULES)


def _unannotated(func) -> list[str]:
    sig = inspect.signature(func)
    missing = [name for name, p in sig.parameters.items()
               if p.annotation is inspect.Parameter.empty and name not in ("self", "cls")
               and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if sig.return_annotation is inspect.Signature.empty and func.__name__ != "__init__":
        missing.append("return")
    return missing


@pytest.mark.parametrize("name", sorted(set(cpsim.__all__)))
def test_the_public_api_is_annotated(name):
    # mypy checks these annotations (make lint); here: that every public function and method has them
    obj = getattr(cpsim, name)
    funcs = {name: obj} if inspect.isfunction(obj) else (
        {f"{name}.{k}": v for k, v in vars(obj).items() if inspect.isfunction(v) and not k.startswith("_")}
        if inspect.isclass(obj) else {})
    assert {k: m for k, f in funcs.items() if (m := _unannotated(f))} == {}
