#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: signoff
short_description: Record, sign and verify a human go/no-go sign-off for the pre-deployment checklist
version_added: 0.1.0
description:
  - Stores who decided, when, the decision (C(approve) or C(reject)), a comment and a change ticket as
    C(<run_dir>/signoff.json) through the verdict contract (approve is C(pass), reject is C(fail)).
  - The record seals the run, that is the C(run_id) of C(<run_dir>/run.json) when present and the sha256 of every
    verdict record file of the run directory (top-level C(*.json) except C(signoff.json) and C(run.json)) and
    of every evidence artifact those verdicts name. With a signing key (O(signing_key), O(signing_key_file)
    or O(hmac_secret)) the whole record is signed.
  - Verification (O(mode=verify), and M(deploysafe.preflight.checklist_report) on every report) hashes every
    sealed file again. A changed byte in a backup or a verdict, a removed file or an added verdict is reported
    by name and the sign-off is not valid (pending). A signature by another key, a record edited after
    signing, or an unsigned record while a verification key is configured is reported the same way.
  - Key kinds. An SSH ed25519 private key signs with Ed25519; verify with its C(ssh-ed25519) public key. An
    age identity (C(AGE-SECRET-KEY-1...)) cannot sign itself (age keys are X25519); an Ed25519 key is derived
    from it with HKDF-SHA256 and the module returns its public key (RV(public_key)) to configure the
    verifiers with. An HMAC secret (for example from an AWX credential) signs with HMAC-SHA256; verifying
    needs the same secret, so anyone who can verify can also sign.
  - Evidence already differing from what its verdict recorded refuses the sign-off, override or not.
  - An approval is refused while a critical checklist item is not C(pass), unless O(override_reason) is
    given; the sign-off is then recorded as an override and every report shows it. An override does not
    turn failed evidence into a pass; the checklist decision still follows the items.
  - The record keeps a fingerprint of each item's verdict; when evidence changes after the sign-off,
    M(deploysafe.preflight.checklist_report) treats the sign-off as pending until it is given again.
  - Recording the same decision again (same signer, comment, ticket, override, evidence and signing key)
    leaves the file alone.
  - Nothing prompts; the approver comes from O(by) (a variable, an AWX survey answer, or the approver of an
    AWX approval node looked up by the role's caller).
options:
  run_dir:
    description: Directory of the pre-deployment run holding the verdict files.
    type: path
    required: true
  mode:
    description:
      - C(record) stores (and, with a key, signs) the sign-off.
      - C(verify) checks the stored sign-off as the checklist does, with O(public_keys) and/or O(hmac_secret),
        and writes nothing; RV(valid) and RV(problems) say the result.
    type: str
    choices: [record, verify]
    default: record
  decision:
    description: The human decision; required with O(mode=record).
    type: str
    choices: [approve, reject]
  by:
    description:
      - Identity of the person signing; required with O(mode=record). The role takes it from
        C(signoff_by), C(preflight_signoff_by) (extra var or survey), else AWX C(awx_user_name) / C(tower_user_name).
    type: str
  signing_key:
    description:
      - Text of the signing key, an OpenSSH (or PKCS#8 PEM) ed25519 private key or an age identity. Never logged.
      - Mutually exclusive with O(signing_key_file) and O(hmac_secret).
    type: str
  signing_key_file:
    description: Path of a file holding the signing key (as O(signing_key)), on the host the module runs on.
    type: path
  signing_key_passphrase:
    description: Passphrase of an encrypted OpenSSH key (needs the Python library C(bcrypt)). Never logged.
    type: str
  hmac_secret:
    description:
      - A secret of at least 16 bytes; with O(mode=record) signs the record with HMAC-SHA256, with
        O(mode=verify) verifies it. Never logged.
    type: str
  public_keys:
    description:
      - With O(mode=verify), the C(ssh-ed25519 AAAA...) public keys a valid signature may come from (SSH keys,
        or keys derived from age identities as returned in RV(public_key)).
    type: list
    elements: str
    default: []
  comment:
    description: Free-text comment stored with the sign-off.
    type: str
    default: ""
  change_ticket:
    description: Change ticket or request this sign-off belongs to.
    type: str
    default: ""
  override_reason:
    description: Required to approve while critical items are not C(pass); recorded as an override.
    type: str
    default: ""
  context:
    description: Extra context stored with the record (for example AWX job ids); not compared for idempotence.
    type: dict
    default: {}
  items:
    description: The checklist items, as in M(deploysafe.preflight.checklist_report).
    type: list
    elements: dict
    default: []
  critical:
    description: Criticality overrides, as in M(deploysafe.preflight.checklist_report).
    type: dict
    default: {}
  max_age:
    description: Verdicts older than this are not pass (see M(deploysafe.preflight.checklist_report)).
    type: str
    default: ""
extends_documentation_fragment:
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Evaluates, hashes, signs and refuses exactly as a real run would; writes nothing.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Approve the deployment, signed with the approver's SSH key
  deploysafe.preflight.signoff:
    run_dir: "{{ preflight_run_dir }}"
    decision: approve
    by: "{{ preflight_signoff_by | default(awx_user_name) }}"
    signing_key_file: ~/.ssh/id_ed25519_signoff
    change_ticket: CHG-1234
    comment: reviewed the report with the on-call DBA

- name: Approve, signed with an HMAC secret injected by an AWX credential
  deploysafe.preflight.signoff:
    run_dir: "{{ preflight_run_dir }}"
    decision: approve
    by: "{{ preflight_signoff_by }}"
    hmac_secret: "{{ preflight_signoff_hmac_secret }}"

- name: Check that the stored sign-off is authentic and its evidence unchanged
  deploysafe.preflight.signoff:
    run_dir: "{{ preflight_run_dir }}"
    mode: verify
    public_keys:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBIk0DgHbVxJZSSe6fRyKIGbqFbYJ6zWrtWVBGp1wHq alice
  register: signoff_check

- name: Approve despite an open item, recorded as an override
  deploysafe.preflight.signoff:
    run_dir: "{{ preflight_run_dir }}"
    decision: approve
    by: alice
    override_reason: load test environment down; accepted by the service owner
"""

RETURN = r"""
signed:
  description: Whether the stored (or planned) record carries a signature.
  returned: with mode=record
  type: bool
  sample: true
key_id:
  description: Id of the signing key (C(SHA256:...) as C(ssh-keygen -l) prints it, or C(hmac:<16 hex>)); never the key.
  returned: with mode=record
  type: str
  sample: SHA256:Jq2n3vFf0y5r8i0x8JYvB0w1m0lS8bHk0cVxq6k4Z3E
public_key:
  description: The C(ssh-ed25519) public key that verifies the signature (empty for HMAC); for an age identity
    this is the derived key to give the checklist as C(checklist_signoff_public_keys).
  returned: with mode=record
  type: str
  sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBIk0DgHbVxJZSSe6fRyKIGbqFbYJ6zWrtWVBGp1wHq deploysafe-signoff
valid:
  description: Whether the stored sign-off verifies and its sealed evidence is unchanged.
  returned: with mode=verify
  type: bool
  sample: false
problems:
  description: What makes the sign-off not valid, each naming the file, artifact or key.
  returned: with mode=verify
  type: list
  elements: str
  sample: ["artifact /backups/db.dump.zst (named by pg_backup.json) changed after the sign-off: sha256 now 1f0c..., signed 9a7e..."]
signoff:
  description: The sign-off as the checklist report shows it (status, decision, by, signature, key_id, run_id, problems...).
  returned: with mode=verify
  type: dict
  sample: {"status": "pending", "signature": "verified", "problems": ["load_test.json changed after the sign-off"]}
path:
  description: Path of the sign-off record.
  returned: always
  type: str
  sample: /var/lib/preflight/run1/signoff.json
record:
  description: The stored (or, in check mode, planned) record with C(verdict) and C(details).
  returned: with mode=record
  type: dict
  sample: {"name": "signoff", "verdict": {"status": "pass", "summary": "approved by alice"},
           "details": {"decision": "approve", "by": "alice", "override": false}}
override:
  description: Whether the approval was given while critical items were not pass.
  returned: with mode=record
  type: bool
  sample: false
verdict:
  description: The sign-off verdict (C(pass) for approve, C(fail) for reject); in verify mode C(pending) when not valid.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "approved by alice (CHG-1234)", "evidence": {"artifacts": [], "findings": {"override": 0},
           "measurements": [{"name": "verdict_files_sealed", "value": 11, "unit": "files"}]}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.module_support import run_signoff


def main():
    module = AnsibleModule(
        argument_spec=dict(
            run_dir=dict(type="path", required=True),
            mode=dict(type="str", choices=["record", "verify"], default="record"),
            decision=dict(type="str", choices=["approve", "reject"]),
            by=dict(type="str"),
            signing_key=dict(type="str", no_log=True),
            signing_key_file=dict(type="path"),
            signing_key_passphrase=dict(type="str", no_log=True),
            hmac_secret=dict(type="str", no_log=True),
            public_keys=dict(type="list", elements="str", default=[], no_log=False),
            comment=dict(type="str", default=""),
            change_ticket=dict(type="str", default=""),
            override_reason=dict(type="str", default=""),
            context=dict(type="dict", default={}),
            items=dict(type="list", elements="dict", default=[]),
            critical=dict(type="dict", default={}),
            max_age=dict(type="str", default=""),
        ),
        required_if=[("mode", "record", ("decision", "by"))],
        mutually_exclusive=[("signing_key", "signing_key_file", "hmac_secret")],
        supports_check_mode=True,
    )
    result, error = run_signoff(module.params, module.check_mode)
    if error:
        module.fail_json(msg=error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
