# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dockerfile parser for the lint: instructions with their start line, flags (--from=, --mount=...),
exec (JSON) or shell form, heredoc bodies, the `# escape=` parser directive, and hadolint's ignore
pragmas (`# hadolint ignore=DL3008,DL3015` on the line before an instruction, `# hadolint global
ignore=...` anywhere)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

_PRAGMA = re.compile(r"^#\s*hadolint\s+(global\s+)?ignore\s*=\s*([\w.,\s-]+)", re.IGNORECASE)
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<-?\s*([\"']?)([A-Za-z_][\w]*)\1")


@dataclass
class Instruction:
    line: int
    keyword: str
    args: str
    flags: Dict[str, str] = field(default_factory=dict)
    ignored: FrozenSet[str] = frozenset()  # rule ids from a `# hadolint ignore=` on the line before
    heredoc: str = ""  # body of RUN <<EOF ... EOF (the script, joined)

    def exec_form(self) -> Optional[List[str]]:
        """The JSON array of an exec-form instruction, or None for shell form."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return [str(v) for v in value] if isinstance(value, list) else None


@dataclass
class Dockerfile:
    instructions: List[Instruction]
    global_ignores: Set[str]


def _split_flags(args: str) -> Tuple[Dict[str, str], str]:
    """Leading `--name=value` flags (RUN --mount=..., COPY --from=..., FROM --platform=...)."""
    flags: Dict[str, str] = {}
    rest = args
    while rest.startswith("--"):
        word, tail = (rest.split(" ", 1) + [""])[:2]
        name, value = (word[2:].split("=", 1) + [""])[:2]
        flags[name.lower()] = flags[name.lower()] + "," + value if name.lower() in flags else value
        rest = tail.lstrip()
    return flags, rest


def _ids(text: str) -> Set[str]:
    return {t.strip() for t in text.replace(" ", ",").split(",") if t.strip()}


def parse_dockerfile(text: str) -> List[Instruction]:
    """Instructions with the line they start on; continuation lines joined."""
    return parse(text).instructions


def parse(text: str) -> Dockerfile:
    """The whole file: instructions plus global ignore pragmas."""
    lines = text.splitlines()
    escape = "\\"
    for raw in lines:  # parser directives come first, before any instruction or other comment
        match = _DIRECTIVE.match(raw.strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("`", "\\"):
            escape = match.group(2)
    out: List[Instruction] = []
    global_ignores: Set[str] = set()
    pending: Set[str] = set()
    buf, start, index = "", 0, 0
    while index < len(lines):
        number, raw = index + 1, lines[index]
        index += 1
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            pragma = _PRAGMA.match(stripped)
            if pragma and pragma.group(1):
                global_ignores |= _ids(pragma.group(2))
            elif pragma:
                pending |= _ids(pragma.group(2))
            continue
        if buf and (stripped.startswith("#") or not stripped):
            continue  # comments and empty lines inside a continued instruction are dropped by docker too
        if not buf:
            start = number
        if stripped.endswith(escape):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        ins = _instruction(start, buf, frozenset(pending))
        pending = set()
        buf = ""
        heredocs = _HEREDOC.findall(ins.args) if ins.keyword in ("RUN", "COPY", "ADD") else []
        body: List[str] = []
        for word in (match[1] for match in heredocs):  # consume each heredoc body up to its terminator line
            while index < len(lines):
                line = lines[index]
                index += 1
                if line.strip() == word:
                    break
                body.append(line)
        ins.heredoc = "\n".join(body)
        out.append(ins)
    if buf:
        out.append(_instruction(start, buf, frozenset(pending)))
    return Dockerfile(out, global_ignores)


def _instruction(line: int, text: str, ignored: FrozenSet[str]) -> Instruction:
    parts = text.split(None, 1)
    keyword = parts[0].upper()
    args = parts[1].strip() if len(parts) > 1 else ""
    flags: Dict[str, str] = {}
    if keyword in ("RUN", "COPY", "ADD", "FROM"):
        flags, args = _split_flags(args)
    return Instruction(line, keyword, args, flags, ignored)
