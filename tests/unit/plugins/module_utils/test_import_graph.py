"""module_utils has no import cycles and no file imports another file's private names.

Read statically (ast), so imports hidden inside functions count too: a lazy import that only breaks a
cycle at run time is still a cycle in the design. If two files need each other, a third file holds
what they share (e.g. s3/results.py for the backup and mirror counters).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple


ROOT = Path(__file__).resolve().parents[4] / "plugins" / "module_utils"
ABSOLUTE = "ansible_collections.deploysafe.preflight.plugins.module_utils"

# Known imports of private names across files, each owned by a branch that removes it.
KNOWN_PRIVATE = set()


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> Dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _package(name: str, path: Path) -> List[str]:
    parts = name.split(".") if name else []
    return parts if path.name == "__init__.py" else parts[:-1]


def imports(name: str, path: Path, known: Dict[str, Path]) -> Iterator[Tuple[str, List[str]]]:
    """(imported module, names taken from it) for every import in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(ABSOLUTE + "."):
                    yield alias.name[len(ABSOLUTE) + 1:], []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package(name, path)
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + (node.module.split(".") if node.module else []))
            elif node.module and (node.module == ABSOLUTE or node.module.startswith(ABSOLUTE + ".")):
                target = node.module[len(ABSOLUTE) + 1:]
            else:
                continue
            taken = []
            for alias in node.names:
                sub = f"{target}.{alias.name}" if target else alias.name
                if sub in known:  # `from . import mirror` imports the submodule itself
                    yield sub, []
                else:
                    taken.append(alias.name)
            if taken:
                yield target, taken


def graph() -> Dict[str, Set[str]]:
    known = modules()
    edges: Dict[str, Set[str]] = {n: set() for n in known}
    for name, path in known.items():
        for target, _names in imports(name, path, known):
            if target != name and target in known:
                edges[name].add(target)
    return edges


def cycles(edges: Dict[str, Set[str]]) -> List[frozenset]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[frozenset] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def private_imports() -> Set[Tuple[str, str, str]]:
    known = modules()
    out = set()
    for name, path in known.items():
        for target, names in imports(name, path, known):
            for taken in names:
                if taken.startswith("_") and not taken.startswith("__") and target != name:
                    out.add((name, target, taken))
    return out


def test_the_graph_is_read():
    edges = graph()
    assert "s3.backup" in edges and "verdict" in edges["s3.verdicts"]
    assert "archive.errors" in edges["archive.writer"]  # relative `from .errors import`


def test_no_import_cycles():
    found = [sorted(c) for c in cycles(graph())]
    assert not found, f"import cycles in plugins/module_utils: {found}"


def test_no_private_names_across_files():
    unexpected = sorted(private_imports() - KNOWN_PRIVATE)
    assert not unexpected, f"imports of another file's private names (importer, module, name): {unexpected}"


def test_a_planted_cycle_is_found():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [frozenset({"a", "b", "c"})]
