# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: merge_verdicts
short_description: Combine several verdicts of the evidence contract into one
version_added: 0.1.0
description:
  - The one verdict merge of the collection's roles. The status is the worst of the inputs (C(fail) beats
    C(pending) beats C(pass)); an empty list is C(pending). Summaries are joined, finding counts added,
    artifacts listed once per path and hash, measurements concatenated.
  - Inputs that are not verdicts (undefined results of skipped tasks, C(None)) are left out, so
    C([a.verdict | default(None), b.verdict | default(None)]) works for optional steps.
  - The merged verdict keeps the producers of its parts; a part recorded by hand makes the whole manual.
  - A measurement with C(ok=false) makes the merged verdict C(fail); a C(pass) without any artifact or
    measurement becomes C(pending).
  - Each part may be a verdict or a registered task result that holds one (C(verdict) key). A skipped
    task counts as not run; a failed task (for example with C(failed_when=false)) counts as a C(pending)
    part that says why it could not run.
  - Given a dict of part name to verdict instead of a list, measurement names and finding keys are
    prefixed with the part name (C(restore.duration); O(prefix=false) keeps them), and every part named
    in O(required) that did not run adds a C(pending) part, so a proof that was asked for but never
    ran cannot leave the merged verdict green.
options:
  _input:
    description: The verdicts to merge, as a list, or as a dict of part name to verdict.
    type: raw
    required: true
  required:
    description: With a dict input, names of parts that must have run.
    type: list
    elements: str
    default: []
  prefix:
    description: With a dict input, prefix measurement names and finding keys with the part name.
    type: bool
    default: true
  summary:
    description: Summary of the merged verdict; default the parts' summaries joined with C(; ).
    type: str
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: The same with named parts; the restore proof was asked for, so its absence is pending
  ansible.builtin.set_fact:
    s3_backup_verdict: "{{ {'backup': backup.verdict, 'restore': restore.verdict | default(None)}
                           | deploysafe.preflight.merge_verdicts(required=['restore']) }}"

- name: Fold the backup, the manifest check and the restore proof into one verdict
  ansible.builtin.set_fact:
    pg_backup_verdict: "{{ [backup.verdict, verify.verdict | default(None), restore.verdict | default(None)]
                           | deploysafe.preflight.merge_verdicts }}"
"""

RETURN = r"""
_value:
  description: The merged verdict (C(status), C(summary), C(evidence), C(producer) when every part has one).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import make_verdict, merge, validate


def _as_verdict(part, name):
    """A verdict, or a registered task result holding one; a skipped task is None, a failed one pending."""
    if part is None or part == "":
        return None
    if not isinstance(part, dict) or ("status" in part and "evidence" in part):
        return part
    if isinstance(part.get("verdict"), dict):
        return part["verdict"]
    if part.get("skipped"):
        return None
    if part.get("failed"):
        return make_verdict("pending", f"{name} could not run: {part.get('msg', 'unknown error')}",
                            findings={"step_errors": 1})
    return part


def _named_parts(verdicts, required, prefix):
    """A dict input as a list of verdicts (names prefixed), plus a pending part per required absentee."""
    parts, ran = [], set()
    for name, part in verdicts.items():
        part = _as_verdict(part, name)
        if part is None:
            continue
        ran.add(name)
        if prefix and isinstance(part, dict) and isinstance(part.get("evidence"), dict):
            evidence = part["evidence"]
            part = dict(part, evidence=dict(
                evidence,
                findings={f"{name}.{k}": n for k, n in (evidence.get("findings") or {}).items()},
                measurements=[dict(m, name=f"{name}.{m.get('name')}") if isinstance(m, dict) else m
                              for m in evidence.get("measurements") or []]))
        parts.append(part)
    for name in required or []:
        if name not in ran:
            parts.append(make_verdict("pending", f"{name} did not run", findings={f"{name}.not_run": 1}))
    return parts


def merge_verdicts(verdicts, summary=None, required=None, prefix=True):
    if isinstance(verdicts, dict) and not ("status" in verdicts and "evidence" in verdicts):
        verdicts = _named_parts(verdicts, required, prefix)
    elif required:
        raise AnsibleFilterError("merge_verdicts: required needs a dict of part name to verdict")
    if not isinstance(verdicts, (list, tuple)):
        raise AnsibleFilterError(f"merge_verdicts expects a list or dict of verdicts, got {type(verdicts).__name__}")
    parts = [v for v in (_as_verdict(v, f"part {i}") for i, v in enumerate(verdicts, 1)) if v is not None]
    for position, part in enumerate(parts, 1):
        try:
            # The shape only: what a pass is worth (its evidence) is decided by the merge itself.
            validate(dict(part, status="pending") if isinstance(part, dict) and part.get("status") == "pass" else part)
        except ValueError as exc:
            raise AnsibleFilterError(f"merge_verdicts: item {position} is not a verdict: {exc}") from exc
    text = summary if summary is not None else "; ".join(str(p["summary"]) for p in parts if p["summary"])
    return merge(text or "no verdicts", parts)


class FilterModule:
    def filters(self):
        return {"merge_verdicts": merge_verdicts}
