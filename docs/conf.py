"""Sphinx configuration: the user guide (Markdown, MyST) and the API reference (numpydoc docstrings).

Built by ``make docs`` with warnings as errors.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys

sys.path.insert(0, os.path.abspath(".."))

import cpsim

project = "cpsim"
author = "cpsim contributors"
copyright = "cpsim contributors"
release = version = cpsim.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

# --- MyST: the guide stays plain Markdown; headings get anchors for links such as studies.md#benchmark
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# --- autodoc / autosummary
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # numpydoc's Parameters sections carry the types

# --- numpydoc
numpydoc_show_class_members = False   # autodoc lists the members; avoids duplicate stubs
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = f"cpsim {release}"
html_static_path: list[str] = []

# --- cross-references -------------------------------------------------------------------------
# Docstrings name things as a user reaches them: through the facade (``cpsim.analyze``), through a
# package that re-exports them (``cpsim.analysis.PilotMeasurement``) or by their bare name inside
# their own package (``measure_pilot``). The reference documents each object once, where it is
# defined; this resolver follows such a name to that place. It only links to what exists: a name
# that imports to nothing stays unresolved, and ``-n`` makes that an error.
nitpicky = True
nitpick_ignore = [
    # outside cpsim, and no intersphinx (the build runs offline)
    ("py:mod", "matplotlib.pyplot"),
    ("py:class", "concurrent.futures.Executor"),
]
nitpick_ignore += [("py:mod", name) for name in sorted(sys.stdlib_module_names)]
nitpick_ignore_regex = [
    # private modules (a leading underscore) are not part of the reference
    (r"py:.*", r"cpsim(\.\w+)*\._\w+.*"),
    # the standard library's classes and functions (no intersphinx: the build runs offline)
    (r"py:.*", r"(" + "|".join(sorted(sys.stdlib_module_names)) + r")\..*"),
]


def _public_modules():
    yield cpsim
    for info in pkgutil.walk_packages(cpsim.__path__, "cpsim."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            try:
                yield importlib.import_module(info.name)
            except ImportError:  # pragma: no cover - a module that needs an optional extra
                continue


def _defined_names():
    """Bare name -> the qualified names of the public classes and functions cpsim defines under it."""
    names: dict[str, set[str]] = {}
    for module in _public_modules():
        for name, obj in vars(module).items():
            if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj)) \
                    and getattr(obj, "__module__", None) == module.__name__:
                names.setdefault(name, set()).add(f"{module.__name__}.{obj.__qualname__}")
    return names


_BY_NAME: dict[str, set[str]] | None = None


def _canonical(path: str):
    """``("obj"|"mod", qualified name)`` of the object a dotted path imports to, or None."""
    parts = path.split(".")
    if parts[0] != "cpsim":
        return None
    for i in range(len(parts), 0, -1):
        modname = ".".join(parts[:i])
        try:
            obj = importlib.import_module(modname)
        except ImportError:
            continue
        break
    else:
        return None
    for attr in parts[i:]:
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            return None
    if inspect.ismodule(obj):
        return "mod", obj.__name__
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and module.startswith("cpsim"):
        return "obj", f"{module}.{qualname}"
    return "mod", modname          # data: link to the module that holds it


def _missing_reference(app, env, node, contnode):
    global _BY_NAME
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    candidates = []
    for context in (node.get("py:class"), node.get("py:module")):
        if context:
            candidates.append(f"{context}.{target}")
    if node.get("py:module") and node.get("py:class"):
        candidates.append(f"{node['py:module']}.{node['py:class']}.{target}")
    candidates.append(target)
    if "." not in target:
        if _BY_NAME is None:
            _BY_NAME = _defined_names()
        found = _BY_NAME.get(target, set())
        if len(found) == 1:
            candidates.extend(found)
    domain = env.get_domain("py")
    for candidate in candidates:
        resolved = _canonical(candidate)
        if resolved is None:
            continue
        kind, name = resolved
        ref = domain.resolve_xref(env, node["refdoc"], app.builder, kind, name, node, contnode)
        if ref is not None:
            return ref
    return None


def setup(app):
    app.connect("missing-reference", _missing_reference)
