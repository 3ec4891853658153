# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the checklist_report and signoff modules do with their parameters, testable without Ansible."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.evaluate import GO, NO_GO, evaluate
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import (
    SIGNOFF_NAME, ChecklistError, Item, build_items, parse_max_age,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.metrics import export_readiness
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.publish import default_report_dir, publish
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.signature import load_signer, load_verifiers
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.signoff import (
    plan_signoff, store_signoff, verify_stored_signoff,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    FAIL, PASS, PENDING, artifact, make_verdict, measurement, produced_by,
)


def run_report(params: Dict[str, Any], check_mode: bool, now: Optional[float] = None
               ) -> Tuple[Dict[str, Any], Optional[str]]:
    """(module result, error message or None) for checklist_report."""
    try:
        items = build_items(params["items"], params["critical"])
        verifiers = load_verifiers(params.get("signoff_public_keys") or [], params.get("signoff_hmac_secret") or "")
        model = evaluate(params["run_dir"], items, parse_max_age(params["max_age"]), now=now, title=params["title"],
                         run_id=params.get("run_id") or "", verifiers=verifiers)
        report_dir = params.get("report_dir") or default_report_dir(params["run_dir"])
        changed, paths = publish(model, report_dir, params["formats"], check_mode=check_mode)
        metrics_file = None
        if params.get("textfile_dir"):
            # the stored report's time: publish keeps it when only the clock moved, so the .prom file does too
            stored = _generated_at(paths["json"]) if not (check_mode and changed) else None
            metrics_changed, metrics_file = export_readiness(model, params["textfile_dir"], check_mode=check_mode,
                                                             generated_at=stored)
            changed = changed or metrics_changed
    except ChecklistError as exc:
        return {}, str(exc)
    c = model["counts"]
    status = {GO: PASS, NO_GO: FAIL}.get(model["decision"], PENDING)
    written = [] if check_mode else [artifact(p, kind=f) for f, p in paths.items() if os.path.exists(p)]
    if metrics_file and not check_mode:
        written.append(artifact(metrics_file, kind="prometheus"))
    verdict = produced_by(make_verdict(
        status, f"checklist {model['decision']}: {c['pass']}/{c['total']} pass; {model['decision_reason']}",
        artifacts=written, measurements=[measurement("items_evaluated", c["total"], "items")],
        findings={"critical_failed": c["critical_failed"], "critical_open": c["critical_open"], "warnings": c["warnings"]}),
        "checklist_report")
    return dict(changed=changed, decision=model["decision"], decision_reason=model["decision_reason"],
                run_id=model["run_id"], release=model["release"],
                counts=c, warnings_list=model["warnings"], signoff=model["signoff"], items=model["items"],
                reports=paths, metrics_file=metrics_file, verdict=verdict), None


def _generated_at(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle).get("generated_at")
    except (OSError, ValueError, AttributeError):
        return None


def run_signoff(params: Dict[str, Any], check_mode: bool, now: Optional[float] = None
                ) -> Tuple[Dict[str, Any], Optional[str]]:
    """(module result, error message or None) for signoff: record (and sign), or verify the stored sign-off."""
    path = os.path.join(params["run_dir"], SIGNOFF_NAME + ".json")
    try:
        items = build_items(params["items"], params["critical"])
        max_age = parse_max_age(params["max_age"])
        if params.get("mode") == "verify":
            return _verify_signoff(params, items, max_age, now, path), None
        signer = load_signer(params.get("signing_key") or "", params.get("signing_key_file") or "",
                             params.get("signing_key_passphrase") or "", params.get("hmac_secret") or "")
        changed, record, _before = plan_signoff(
            params["run_dir"], items, params["decision"], params["by"], comment=params["comment"],
            change_ticket=params["change_ticket"], override_reason=params["override_reason"],
            context=params["context"], max_age=max_age, now=now, signer=signer)
        if changed and not check_mode:
            store_signoff(params["run_dir"], record)
    except ChecklistError as exc:
        return {}, str(exc)
    except OSError as exc:
        return {}, f"cannot write sign-off to {path}: {exc.strerror or exc}"
    signature = record["details"].get("signature") or {}
    return dict(changed=changed, path=path, record=record, override=bool(record["details"].get("override")),
                verdict=record["verdict"], signed=bool(signature), key_id=signature.get("key_id"),
                public_key=signer.public_key if signer else ""), None


def _verify_signoff(params: Dict[str, Any], items: List[Item], max_age: Optional[int], now: Optional[float],
                    path: str) -> Dict[str, Any]:
    """verify mode: the stored sign-off checked as the checklist checks it; never writes."""
    verifiers = load_verifiers(params.get("public_keys") or [], params.get("hmac_secret") or "")
    info = verify_stored_signoff(params["run_dir"], items, verifiers, max_age=max_age, now=now)
    valid = info["recorded"] and info["status"] != PENDING
    summary = (f"sign-off {info['decision']} by {info['by']} is valid (signature: {info['signature']}; "
               f"{info['sealed_files']} verdict files and {info['sealed_artifacts']} artifacts re-hashed)"
               if valid else f"sign-off not valid: {info['reason']}")
    measurements = [measurement("verdict_files_rehashed", info["sealed_files"], "files"),
                    measurement("artifacts_rehashed", info["sealed_artifacts"] - len(info["artifacts_not_rehashed"]),
                                "files")] if info["recorded"] else []
    verdict = produced_by(make_verdict(info["status"] if valid else PENDING, summary, measurements=measurements,
                                       findings={"problems": len(info["problems"])}), "signoff")
    return dict(changed=False, path=path, valid=valid, signoff=info, problems=info["problems"], verdict=verdict)
