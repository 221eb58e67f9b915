"""The dashboard and the core use Streamlit and Altair through their public APIs only.

Nothing is upgraded here: the source of ``core/``, ``dashboard/`` and ``pages/`` is parsed and every
import from Streamlit or Altair, and every attribute reached from a name those imports bound, is
checked for a private (``_``-prefixed, not dunder) part. The names issue 16 found in the old chart
layer (``dataframe_util``, ``_kwds``, ``_altair_globals_lock``, ``_patch_null_legend_titles``, an
attribute attached with ``object.__setattr__``) are named too, so they cannot come back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("streamlit", "altair")
BANNED = ("dataframe_util", "_kwds", "_altair_globals_lock", "_patch_null_legend_titles")
SOURCES = sorted(p for d in ("core", "dashboard", "pages") for p in (ROOT / d).rglob("*.py"))


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def problems(source: str) -> list[str]:
    """Every private Streamlit or Altair name the source imports or reaches, as text."""
    tree = ast.parse(source)
    bound: set[str] = set()  # local names bound to a library module or object
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES:
                    out += [f"import {alias.name}" for p in alias.name.split(".") if _private(p) or p in BANNED]
                    bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in LIBRARIES:
            parts = node.module.split(".")
            out += [f"from {node.module}" for p in parts if _private(p) or p in BANNED]
            for alias in node.names:
                if _private(alias.name) or alias.name in BANNED:
                    out.append(f"from {node.module} import {alias.name}")
                bound.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = node.value
            while isinstance(base, (ast.Attribute, ast.Call, ast.Subscript)):
                base = base.func if isinstance(base, ast.Call) else base.value
            if isinstance(base, ast.Name) and base.id in bound and (_private(node.attr) or node.attr in BANNED):
                out.append(f"{ast.unparse(node)} (line {node.lineno})")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__setattr__"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "object"):
            out.append(f"object.__setattr__ (line {node.lineno})")
    return out


def test_the_check_finds_what_it_looks_for():
    bad = """
import streamlit as st
import altair as alt
from streamlit import dataframe_util
from streamlit.runtime._private import x
st._config.get_option("a")
alt.Chart()._kwds
object.__setattr__(chart, "spec", {})
"""
    found = problems(bad)
    assert len(found) == 5, found
    assert problems("import streamlit as st\nst.query_params.get('a')\nimport altair as alt\nalt.Chart().__class__") == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_touches_a_private_streamlit_or_altair_name(path):
    assert problems(path.read_text(encoding="utf-8")) == []
