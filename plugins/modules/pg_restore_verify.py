#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_restore_verify
short_description: Prove a pg_backup artifact restores to the same data, in a scratch database
version_added: 0.1.0
description:
  - Creates a scratch database with a random name (C(preflight_verify_<hex>)) on the server given by the connection
    options (O(dbname) is only the database to connect to for that), restores the artifact into it with the real
    C(pg_restore) (parallel O(jobs)), then proves
    (a) every table's row count and content hash equal those recorded in the manifest at backup time (for
    C(copy_sha256) backups the sha256 of C(COPY table TO STDOUT), read through C(psql) or the driver with
    C(synchronize_seqscans=off) so rows come in the order C(pg_restore) loaded them; for older C(md5),
    C(hash_record) or C(count) manifests computed in SQL as they say),
    (b) every foreign key and check constraint holds for every row,
    (c) no owned sequence is behind its column's maximum,
    (d) the restore took at most O(max_duration) seconds.
  - The scratch database is dropped at the end, also on failure, unless O(keep_scratch=true).
  - The connecting role needs C(CREATEDB) (and ownership rights over the restored objects, or O(no_owner)).
options:
  path:
    description: The artifact written by M(deploysafe.preflight.pg_backup).
    type: path
    required: true
  manifest:
    description: The manifest; default C(<path>.manifest.json).
    type: path
  identity_file:
    description: age identity file (or SSH private key) for an encrypted artifact.
    type: path
  jobs:
    description: Parallel C(pg_restore) jobs, and connections (or C(psql) processes) used to hash tables afterwards.
    type: int
    default: 2
  work_dir:
    description:
      - Directory for the temporary unpacked dump when O(jobs) > 1 or the backup is directory-format;
        default the system temporary directory.
    type: path
  max_duration:
    description: Longest acceptable restore, in seconds.
    type: float
    default: 300
  keep_scratch:
    description: Keep the scratch database for debugging (its name is returned).
    type: bool
    default: false
  no_owner:
    description: Do not restore object ownership (C(--no-owner)).
    type: bool
    default: false
  no_privileges:
    description: Do not restore grants (C(--no-privileges)).
    type: bool
    default: false
extends_documentation_fragment:
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.verdict.fail_on_mismatch
  - deploysafe.preflight.postgres
  - deploysafe.preflight.postgres.client_programs
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: partial
    details:
      - Checks that the artifact and its manifest exist and are intact, restores nothing; verdict C(pending).
      - Check mode cannot prove restorability, since that needs a restore; it only validates the inputs.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Prove the backup restores, on the staging server
  deploysafe.preflight.pg_restore_verify:
    host: db-staging.internal
    user: postgres
    password: "{{ vault_pg_password }}"
    path: "{{ backup.path }}"
    identity_file: /etc/preflight/backup-key.txt
    jobs: 2
    max_duration: 300
  register: restorable
"""

RETURN = r"""
scratch_db:
  description: Name of the scratch database (dropped unless O(keep_scratch)).
  returned: success and not check mode
  type: str
  sample: preflight_verify_3f9a1c2b7d4e
properties:
  description: pass or fail per proven property.
  returned: success and not check mode
  type: dict
  sample: {"data_matches": "pass", "constraints_valid": "pass", "sequences_not_behind": "pass", "restore_duration": "pass"}
differing_tables:
  description: Tables whose row count or content hash differs, or that are missing on one side.
  returned: success and not check mode
  type: list
  elements: dict
  sample: [{"table": "public.orders", "problem": "content hash differs", "expected_rows": 3000, "actual_rows": 3000}]
constraint_violations:
  description: Constraints with violating rows.
  returned: success and not check mode
  type: list
  elements: dict
  sample: [{"table": "public.orders", "constraint": "orders_customer_id_fkey", "kind": "foreign key", "violating_rows": 1}]
sequences_behind:
  description: Sequences whose next value would collide with existing rows.
  returned: success and not check mode
  type: list
  elements: dict
  sample: []
timings:
  description: Seconds for the restore, the comparison and the whole run.
  returned: success and not check mode
  type: dict
  sample: {"restore": 2.6, "compare": 1.2, "total": 4.1}
verdict:
  description: Evidence contract with a measurement per property.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "5 tables restored identical, constraints valid", "evidence": {}}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import ArchiveError, manifest_path
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import (
    fail_on_from_legacy, postgres_argument_spec, restore_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions, load_backup
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore_verify import (
    restore_verify, restore_verify_verdict)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL_ON, PENDING, gate_failed, make_verdict


def main():
    spec = postgres_argument_spec()
    spec.update(restore_argument_spec())
    spec.update(
        path=dict(type="path", required=True),
        manifest=dict(type="path"),
        max_duration=dict(type="float", default=300),
        keep_scratch=dict(type="bool", default=False),
        fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
        fail_on_mismatch=dict(type="bool"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           mutually_exclusive=[("fail_on", "fail_on_mismatch")])
    stamp_module_verdicts(module, "pg_restore_verify")
    p = module.params
    if p["fail_on_mismatch"] is not None:
        module.deprecate("fail_on_mismatch is replaced by fail_on (true: fail, false: never)", version="1.0.0",
                         collection_name="deploysafe.preflight")
    fail_on = fail_on_from_legacy(p["fail_on"], p["fail_on_mismatch"])
    requires(module, "psycopg", "zstandard", "pyrage" if p["identity_file"] else None)
    mpath = p["manifest"] or manifest_path(p["path"])
    opts = RestoreOptions(jobs=max(1, p["jobs"]), no_owner=p["no_owner"], no_privileges=p["no_privileges"],
                          identity_file=p["identity_file"], manifest_file=mpath, work_dir=p["work_dir"],
                          bindir=p["bindir"])
    params = ConnParams.from_params(p)
    try:
        if module.check_mode:
            load_backup(p["path"], mpath)
            module.exit_json(changed=False, verdict=make_verdict(
                PENDING, f"check mode: would restore {os.path.basename(p['path'])} into a scratch database"))
        result = restore_verify(params, p["path"], opts, max_duration=p["max_duration"],
                                keep_scratch=p["keep_scratch"])
    except (PgError, ArchiveError) as exc:
        module.fail_json(msg=f"pg_restore_verify of {p['path']} failed: {exc}")
    comp = result.comparison
    verdict = restore_verify_verdict(p["path"], mpath, result)
    out = dict(changed=False, scratch_db=result.scratch_db, properties=result.properties,
               differing_tables=comp.differing_tables, constraint_violations=comp.constraint_violations,
               sequences_behind=comp.sequences_behind,
               timings={"restore": result.restore["duration_s"], "compare": comp.duration_s, "total": result.total_s},
               verdict=verdict)
    if gate_failed(verdict["status"], fail_on):
        what = "did not restore to the recorded data" if verdict["status"] == "fail" else "is not proven restorable"
        module.fail_json(msg=f"backup {p['path']} {what}: {verdict['summary']}", **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
