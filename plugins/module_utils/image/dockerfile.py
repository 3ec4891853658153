# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dockerfile lint: base image pinned, USER set to non-root, no ADD of URLs, no `curl | sh`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, Location, make_finding

BASE_UNPINNED = Check("dockerfile.base-unpinned", "medium", "Base image not pinned by digest",
                      "Use FROM image:tag@sha256:<digest> so rebuilds use the reviewed base.")
NO_USER = Check("dockerfile.user-root", "high", "Final stage runs as root (no USER or USER root)",
                "Add `USER <non-root uid>` to the final stage.")
ADD_URL = Check("dockerfile.add-url", "medium", "ADD downloads from a URL",
                "Download with a checksum-verified RUN step (or COPY a vendored file) instead of ADD <url>.")
CURL_PIPE = Check("dockerfile.curl-pipe-shell", "high", "Remote script piped into a shell",
                  "Download to a file, verify its checksum or signature, then run it.")
CHECKS = (BASE_UNPINNED, NO_USER, ADD_URL, CURL_PIPE)

_CURL_PIPE = re.compile(r"\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b")
_URL = re.compile(r"^(?:https?|ftp)://", re.IGNORECASE)


@dataclass
class Instruction:
    line: int
    keyword: str
    args: str


def parse_dockerfile(text: str) -> List[Instruction]:
    """Instructions with the line they start on; continuation lines (trailing backslash) joined."""
    out: List[Instruction] = []
    buf, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue  # comments inside a continued instruction are dropped by docker too
        if not buf:
            start = number
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        out.append(_instruction(start, buf))
        buf = ""
    if buf:
        out.append(_instruction(start, buf))
    return out


def _instruction(line: int, text: str) -> Instruction:
    parts = text.split(None, 1)
    return Instruction(line, parts[0].upper(), parts[1].strip() if len(parts) > 1 else "")


def _from_parts(args: str) -> Tuple[str, str]:
    words = [w for w in args.split() if not w.startswith("--")]
    image = words[0] if words else ""
    alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else ""
    return image, alias


def lint_dockerfile(text: str, path: str = "Dockerfile") -> List[Finding]:
    """Findings for one Dockerfile; `path` is used for locations only."""
    findings: List[Finding] = []
    stages: List[str] = []
    final_user, final_from_line = None, 0
    for ins in parse_dockerfile(text):
        where = Location(file=path, line=ins.line)
        if ins.keyword == "FROM":
            image, alias = _from_parts(ins.args)
            final_user, final_from_line = None, ins.line
            if image and image.lower() != "scratch" and image not in stages and "$" not in image \
                    and "@sha256:" not in image:
                tag = image.rsplit("/", 1)[-1].partition(":")[2]
                why = "uses the latest tag" if tag in ("", "latest") else f"tag {tag!r} without a digest"
                findings.append(make_finding(BASE_UNPINNED, f"base image {image} {why}", where))
            if alias:
                stages.append(alias)
        elif ins.keyword == "USER":
            final_user = ins.args.split(":")[0].strip()
        elif ins.keyword == "ADD":
            for word in ins.args.split():
                if _URL.match(word):
                    findings.append(make_finding(ADD_URL, f"ADD fetches {word.split('?')[0]}", where))
        elif ins.keyword == "RUN" and _CURL_PIPE.search(ins.args):
            findings.append(make_finding(CURL_PIPE, "RUN pipes a downloaded script into a shell", where))
    if final_from_line and final_user in (None, "", "root", "0"):
        why = "has no USER instruction" if final_user is None else f"sets USER {final_user}"
        findings.append(make_finding(NO_USER, f"final stage (FROM at line {final_from_line}) {why}",
                                     Location(file=path, line=final_from_line)))
    return findings
