# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read SARIF 2.1.0 logs from external scanners (checkov, trivy, semgrep...) into Findings."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Finding, FindingsError, Location

_LEVEL_TO_SEVERITY = {"error": "high", "warning": "medium", "note": "low", "none": "info"}


def suppression_state(suppressions: Any) -> Tuple[bool, str]:
    """(suppressed, why) for a result's `suppressions` (SARIF 2.1.0 §3.27.23, §3.35.3).

    The spec leaves the decision to the `status` of each suppression (accepted, underReview, rejected). A
    gate must not drop a finding someone is still discussing or has refused to waive, so the result counts
    as suppressed only when the array is non-empty and every suppression is `accepted` or has no status
    (kind-only suppressions, as most tools write them: the TC's default is accepted). Any underReview,
    rejected or unknown status keeps the finding active. Absent, null or empty means not suppressed.
    """
    if not isinstance(suppressions, list) or not suppressions:
        return False, ""
    statuses = [(s.get("status") if isinstance(s, dict) else "malformed") for s in suppressions]
    open_ = sorted({str(st) for st in statuses if st not in (None, "accepted")})
    if open_:
        return False, f"SARIF suppression status {', '.join(open_)}: not applied"
    return True, ""


def _severity(result: Dict[str, Any], rule: Dict[str, Any]) -> str:
    """security-severity (CVSS-like score, GitHub convention) wins over level, then rule default."""
    for props in (result.get("properties") or {}, rule.get("properties") or {}):
        score = props.get("security-severity")
        if score is not None:
            try:
                value = float(score)
            except (TypeError, ValueError):
                continue
            return "critical" if value >= 9 else "high" if value >= 7 else "medium" if value >= 4 \
                else "low" if value > 0 else "info"
    level = result.get("level") or (rule.get("defaultConfiguration") or {}).get("level") or "warning"
    return _LEVEL_TO_SEVERITY.get(level, "medium")


def _text(node: Any) -> str:
    if isinstance(node, dict):
        return str(node.get("text") or node.get("markdown") or "")
    return str(node or "")


def findings_from_sarif(doc: Any, source: str = "<sarif>") -> List[Finding]:
    """Turn every result of every run into a Finding tagged with the run's tool name."""
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise FindingsError(f"{source}: not a SARIF log (no 'runs' list)")
    out: List[Finding] = []
    for run_index, run in enumerate(doc["runs"]):
        driver = ((run or {}).get("tool") or {}).get("driver") or {}
        tool = str(driver.get("name") or f"sarif-run-{run_index}")
        rules = driver.get("rules") or []
        by_id = {r.get("id"): r for r in rules if isinstance(r, dict)}
        for result in run.get("results") or []:
            if not isinstance(result, dict):
                continue
            rule_id = result.get("ruleId")
            if rule_id is None and isinstance(result.get("ruleIndex"), int) and result["ruleIndex"] < len(rules):
                rule_id = rules[result["ruleIndex"]].get("id")
            rule = by_id.get(rule_id) or {}
            loc = Location()
            locations = result.get("locations") or []
            if locations and isinstance(locations[0], dict):
                phys = locations[0].get("physicalLocation") or {}
                loc.file = str((phys.get("artifactLocation") or {}).get("uri") or "")
                region = phys.get("region") or {}
                loc.line = region.get("startLine")
                loc.column = region.get("startColumn")
            fingerprints = result.get("partialFingerprints") or result.get("fingerprints") or {}
            suppressed, why = suppression_state(result.get("suppressions"))
            message = _text(result.get("message")) or _text(rule.get("shortDescription")) or str(rule_id)
            finding = Finding(
                check_id=f"{tool}:{rule_id or 'unknown'}", severity=_severity(result, rule),
                message=f"{message} ({why})" if why else message,
                location=loc, remediation=_text(rule.get("help")) or _text(rule.get("fullDescription")),
                fingerprint=next(iter(fingerprints.values()), "") if fingerprints else "", tool=tool,
            )
            if suppressed:
                justification = "; ".join(str(s.get("justification")) for s in result["suppressions"]
                                          if isinstance(s, dict) and s.get("justification"))
                finding.exempted_by = {"source": source, "owner": tool,
                                       "reason": "suppressed in the SARIF input (accepted)"
                                                 + (f": {justification}" if justification else "")}
            out.append(finding)
    return out


def load_sarif(path: str) -> List[Finding]:
    try:
        with open(path, "rb") as handle:
            doc = json.loads(handle.read().decode("utf-8-sig"))
    except OSError as exc:
        raise FindingsError(f"cannot read SARIF file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise FindingsError(f"{path}: not a JSON SARIF log: {exc}") from None
    return findings_from_sarif(doc, path)
