#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_database_verify
short_description: Prove a live database holds what a pg_backup manifest recorded
version_added: 0.1.0
description:
  - Compares the database O(dbname) with the manifest of a M(deploysafe.preflight.pg_backup) artifact, the same
    proof as M(deploysafe.preflight.pg_restore_verify) without the restore - for a database restored by other
    means, for example by M(deploysafe.preflight.pg_restore) in a disaster-recovery drill.
  - Proves (a) every table's row count and content hash equal those recorded at backup time (the way the manifest
    says - C(copy_sha256) hashes C(COPY table TO STDOUT) in heap order, which matches when the database was loaded
    by C(pg_restore) from that backup; C(md5), C(hash_record), C(count) are computed in SQL), and no table is
    missing or extra, (b) every foreign key and check constraint
    holds for every row, (c) no owned sequence is behind its column's maximum.
  - Comparing no table at all is C(pending), never a pass.
options:
  path:
    description: The artifact written by M(deploysafe.preflight.pg_backup) (only its manifest is read).
    type: path
    required: true
  manifest:
    description: The manifest; default C(<path>.manifest.json).
    type: path
  jobs:
    description: Connections used to hash tables.
    type: int
    default: 2
extends_documentation_fragment:
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.postgres
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.read_only
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Prove the restored database equals the backup
  deploysafe.preflight.pg_database_verify:
    host: db1.internal
    user: postgres
    password: "{{ pg_admin_password }}"
    dbname: app_restored
    path: /var/backups/pg/nightly-app-20261125T140000Z.dump.zst
  register: restored
"""

RETURN = r"""
differing_tables:
  description: Tables whose row count or content hash differs, or that are missing or extra, with the problem.
  returned: always
  type: list
  elements: dict
  sample: [{"table": "public.orders", "problem": "rows 2999 != 3000"}]
constraint_violations:
  description: Foreign keys and check constraints that some rows violate.
  returned: always
  type: list
  elements: dict
  sample: []
sequences_behind:
  description: Owned sequences behind their column's maximum.
  returned: always
  type: list
  elements: dict
  sample: []
tables_compared:
  description: Tables hashed in the database.
  returned: always
  type: int
  sample: 5
verdict:
  description: Evidence contract (C(tables_compared) and C(compare_duration), the backup and its manifest).
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "database app_restored: 5 tables equal to the backup", "evidence": {}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import ArchiveError
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import postgres_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore_verify import verify_database
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    FAIL_ON, gate_failed, stamp_module_verdicts)


def main():
    spec = postgres_argument_spec(client_programs=False)
    spec.update(path=dict(type="path", required=True), manifest=dict(type="path"), jobs=dict(type="int", default=2),
                fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    stamp_module_verdicts(module, "pg_database_verify")
    p = module.params
    requires(module, "psycopg")
    params = ConnParams.from_params(p)
    try:
        comp, verdict = verify_database(params, p["path"], p["manifest"], workers=p["jobs"])
    except (PgError, ArchiveError) as exc:
        module.fail_json(msg=f"pg_database_verify of database {params.dbname or '(default)'} against {p['path']} failed: {exc}")
    out = dict(changed=False, differing_tables=comp.differing_tables, constraint_violations=comp.constraint_violations,
               sequences_behind=comp.sequences_behind, tables_compared=comp.tables_compared, verdict=verdict)
    if gate_failed(verdict["status"], p["fail_on"]):
        module.fail_json(msg=f"pg_database_verify: {verdict['summary']}", **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
