# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exemptions: the one way to silence a finding, always with an owner, a reason and an expiry.

File format (YAML or JSON), a list under `exemptions:` (or a bare list):

    exemptions:
      - check_id: manifest.image-latest      # exact id or a glob (manifest.*)
        selector: {file: "deploy/*.yaml", pointer: "/spec/*", layer: "sha256:ab*",
                   fingerprint: "0123abcd...", message: "regex"}   # every given key must match
        owner: team-payments
        reason: vendor image, pinned by the operator
        expires: 2026-12-31                   # last day it applies (UTC)

An exemption past its expiry stops applying and is itself reported (check `exemption.expired`), so a
forgotten waiver turns into a visible finding instead of a permanent hole. Findings over a limit the user
set (gate "fail", e.g. image.size over its budget) cannot be exempted: the limit is the user's own
decision, so raising it is the way to accept a bigger image.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import (
    Check, Finding, FindingsError, Location, make_finding,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL

EXPIRED = Check("exemption.expired", "medium", "An exemption has expired and no longer applies",
                "Fix the finding it covered, or renew the exemption with a new expiry after review.")
UNUSED = Check("exemption.unused", "info", "An exemption matched no finding",
               "Remove exemptions that no longer match anything.")
SELECTOR_KEYS = ("file", "pointer", "layer", "fingerprint", "message")


@dataclass
class Exemption:
    check_id: str
    owner: str
    reason: str
    expires: datetime.date
    selector: Dict[str, str] = field(default_factory=dict)
    index: int = 0
    source: str = ""

    def matches(self, finding: Finding) -> bool:
        if not fnmatch.fnmatchcase(finding.check_id, self.check_id):
            return False
        loc = finding.location
        for key, pattern in self.selector.items():
            if key == "fingerprint" and finding.fingerprint != pattern:
                return False
            if key == "message" and not re.search(pattern, finding.message):
                return False
            if key in ("file", "pointer", "layer") and not fnmatch.fnmatchcase(getattr(loc, key) or "", pattern):
                return False
        return True

    def describe(self) -> Dict[str, Any]:
        return {"check_id": self.check_id, "selector": dict(self.selector), "owner": self.owner,
                "reason": self.reason, "expires": self.expires.isoformat(), "source": self.source,
                "index": self.index}


def _parse_date(value: Any, where: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise FindingsError(f"{where}: expires {value!r} is not a date (YYYY-MM-DD)") from None


def parse_exemptions(data: Any, source: str = "<exemptions>") -> List[Exemption]:
    """Validate loaded exemption data; every problem names the file and the entry index."""
    if data is None:
        return []
    if isinstance(data, dict):
        data = data.get("exemptions", [])
    if not isinstance(data, list):
        raise FindingsError(f"{source}: expected a list of exemptions (or a mapping with 'exemptions:')")
    result = []
    for index, entry in enumerate(data):
        where = f"{source}: exemption #{index + 1}"
        if not isinstance(entry, dict):
            raise FindingsError(f"{where}: must be a mapping")
        missing = [k for k in ("check_id", "owner", "reason", "expires") if not entry.get(k)]
        if missing:
            raise FindingsError(f"{where}: missing {', '.join(missing)} (an exemption needs an owner, "
                                f"a reason and an expiry)")
        selector = entry.get("selector") or {}
        if not isinstance(selector, dict) or set(selector) - set(SELECTOR_KEYS):
            raise FindingsError(f"{where}: selector must be a mapping with keys from {', '.join(SELECTOR_KEYS)}")
        if "message" in selector:
            try:
                re.compile(str(selector["message"]))
            except re.error as exc:
                raise FindingsError(f"{where}: selector.message is not a valid regex: {exc}") from None
        result.append(Exemption(check_id=str(entry["check_id"]), owner=str(entry["owner"]),
                                reason=str(entry["reason"]), expires=_parse_date(entry["expires"], where),
                                selector={k: str(v) for k, v in selector.items()}, index=index, source=source))
    return result


def load_exemptions(path: Optional[str]) -> List[Exemption]:
    """Read an exemptions file (YAML or JSON). No path means no exemptions."""
    if not path:
        return []
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise FindingsError(f"cannot read exemptions file {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FindingsError(f"{path}: not UTF-8 at byte {exc.start}") from None
    try:
        if path.endswith(".json"):
            data = json.loads(text)
        else:
            import yaml  # PyYAML ships with ansible-core
            data = yaml.safe_load(text)
    except ValueError as exc:
        raise FindingsError(f"{path}: invalid JSON: {exc}") from None
    except Exception as exc:  # yaml.YAMLError: report its position on one line
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise FindingsError(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
    return parse_exemptions(data, path)


def apply_exemptions(findings: Sequence[Finding], exemptions: Sequence[Exemption],
                     today: Optional[datetime.date] = None, report_unused: bool = False) -> Tuple[List[Finding], int]:
    """Mark findings covered by a live exemption; add a finding for each expired exemption.

    An exemption applies through its `expires` day (UTC) inclusive. Returns (findings, exempted count).
    """
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    live = [e for e in exemptions if e.expires >= today]
    out: List[Finding] = []
    used = set()
    exempted = 0
    for f in findings:
        for e in live if f.gate != FAIL else ():
            if e.matches(f):
                f.exempted_by = e.describe()
                used.add(id(e))
                exempted += 1
                break
        out.append(f)
    for e in exemptions:
        where = Location(file=e.source, pointer=f"/exemptions/{e.index}")
        if e.expires < today:
            out.append(make_finding(EXPIRED, f"exemption for {e.check_id} (owner {e.owner}) expired on "
                                             f"{e.expires.isoformat()} and no longer applies: {e.reason}", where))
        elif report_unused and id(e) not in used:
            out.append(make_finding(UNUSED, f"exemption for {e.check_id} (owner {e.owner}) matched no finding", where))
    return out, exempted
