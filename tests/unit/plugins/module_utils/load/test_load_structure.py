"""Structure of the load capability read from its source: no import cycles, no private names imported
across files, and every header or token option of load_test hidden from logs (no_log)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[5]
LOAD = ROOT / "plugins" / "module_utils" / "load"
MODULE = ROOT / "plugins" / "modules" / "load_test.py"


def _imports(path: Path):
    """(sibling module, imported names) of every relative import in the file, lazy ones included."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                yield node.module.split(".")[0], [a.name for a in node.names]
            else:   # from . import a, b
                for alias in node.names:
                    yield alias.name, []


def test_no_import_cycles_in_load():
    graph = {p.stem: {m for m, _ in _imports(p)} for p in LOAD.glob("*.py")}

    def reach(start, node, seen):
        for nxt in graph.get(node, ()):
            if nxt == start:
                return True
            if nxt not in seen:
                seen.add(nxt)
                if reach(start, nxt, seen):
                    return True
        return False
    cyclic = sorted(name for name in graph if reach(name, name, set()))
    assert not cyclic, f"import cycle through {cyclic}"


def test_no_private_names_imported_across_load_files():
    private = [(p.name, m, n) for p in LOAD.glob("*.py") for m, names in _imports(p) for n in names
               if n.startswith("_")]
    assert not private


def _argspec():
    for node in ast.walk(ast.parse(MODULE.read_text())):
        if isinstance(node, ast.keyword) and node.arg == "argument_spec":
            return {kw.arg: {k.arg: getattr(k.value, "value", None) for k in call.keywords}
                    for kw in node.value.keywords for call in [kw.value]}
    raise AssertionError("no argument_spec in load_test")


def test_every_header_and_token_option_is_no_log():
    spec = _argspec()
    secret = [name for name in spec if "header" in name or "token" in name]
    assert set(secret) >= {"headers", "request_headers", "auth_token"}
    assert [name for name in secret if spec[name].get("no_log") is not True] == []
