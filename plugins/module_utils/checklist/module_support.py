# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the checklist_report and signoff modules do with their parameters, testable without Ansible."""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import GO, NO_GO, evaluate
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import (
    SIGNOFF_NAME, ChecklistError, build_items, parse_max_age,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.publish import publish
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.signoff import plan_signoff, store_signoff
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    FAIL, PASS, PENDING, artifact, make_verdict, measurement, produced_by,
)


def run_report(params: Dict[str, Any], check_mode: bool, now: Optional[float] = None
               ) -> Tuple[Dict[str, Any], Optional[str]]:
    """(module result, error message or None) for checklist_report."""
    try:
        items = build_items(params["items"], params["critical"])
        model = evaluate(params["run_dir"], items, parse_max_age(params["max_age"]), now=now, title=params["title"],
                         run_id=params.get("run_id") or "")
        report_dir = params.get("report_dir") or os.path.join(params["run_dir"], "report")
        changed, paths = publish(model, report_dir, params["formats"], check_mode=check_mode)
    except ChecklistError as exc:
        return {}, str(exc)
    c = model["counts"]
    status = {GO: PASS, NO_GO: FAIL}.get(model["decision"], PENDING)
    written = [] if check_mode else [artifact(p, kind=f) for f, p in paths.items() if os.path.exists(p)]
    verdict = produced_by(make_verdict(
        status, f"checklist {model['decision']}: {c['pass']}/{c['total']} pass; {model['decision_reason']}",
        artifacts=written, measurements=[measurement("items_evaluated", c["total"], "items")],
        findings={"critical_failed": c["critical_failed"], "critical_open": c["critical_open"], "warnings": c["warnings"]}),
        "checklist_report")
    return dict(changed=changed, decision=model["decision"], decision_reason=model["decision_reason"],
                run_id=model["run_id"], release=model["release"],
                counts=c, warnings_list=model["warnings"], signoff=model["signoff"], items=model["items"],
                reports=paths, verdict=verdict), None


def run_signoff(params: Dict[str, Any], check_mode: bool, now: Optional[float] = None
                ) -> Tuple[Dict[str, Any], Optional[str]]:
    """(module result, error message or None) for signoff."""
    path = os.path.join(params["run_dir"], SIGNOFF_NAME + ".json")
    try:
        items = build_items(params["items"], params["critical"])
        changed, record, _before = plan_signoff(
            params["run_dir"], items, params["decision"], params["by"], comment=params["comment"],
            change_ticket=params["change_ticket"], override_reason=params["override_reason"],
            context=params["context"], max_age=parse_max_age(params["max_age"]), now=now)
        if changed and not check_mode:
            store_signoff(params["run_dir"], record)
    except ChecklistError as exc:
        return {}, str(exc)
    except OSError as exc:
        return {}, f"cannot write sign-off to {path}: {exc.strerror or exc}"
    return dict(changed=changed, path=path, record=record, override=bool(record["details"].get("override")),
                verdict=record["verdict"]), None
