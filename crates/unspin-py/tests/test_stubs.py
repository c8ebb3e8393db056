"""The type stubs ship with the package and describe the extension as it is: every class,
function and public member on one side is on the other."""

from __future__ import annotations

import ast
from pathlib import Path

import unspin
from unspin import _unspin


def stub_names():
    path = Path(unspin.__file__).with_name("_unspin.pyi")
    assert path.exists(), "the stubs must be installed with the package"
    assert Path(unspin.__file__).with_name("py.typed").exists()
    tree = ast.parse(path.read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for n in node.body:
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    members.add(n.name)
                elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
                    members.add(n.target.id)
            out[node.name] = members
        elif isinstance(node, ast.FunctionDef):
            out[node.name] = None
    return out


def test_stubs_match_the_extension():
    stubs = stub_names()
    runtime = {n for n in dir(_unspin) if not n.startswith("_")}
    assert set(stubs) == runtime
    for name, members in stubs.items():
        if members is None:
            continue
        cls = getattr(_unspin, name)
        public = {m for m in dir(cls) if not m.startswith("_")}
        declared = {m for m in members if not m.startswith("_")}
        assert declared == public, (name, declared ^ public)


def test_package_docstring_examples_hold():
    import doctest

    failed, tried = doctest.testmod(unspin)
    assert tried >= 3 and failed == 0
