#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_restore
short_description: Restore a pg_backup artifact into a PostgreSQL database with the real pg_restore
version_added: 0.1.0
description:
  - Decrypts (O(identity_file)) and decompresses the artifact on the fly and restores it with C(pg_restore)
    (custom or directory format, parallel with O(jobs)) or C(psql) (plain format), connected to O(dbname).
  - Refuses a target database that already holds tables, views or sequences unless O(force=true). A forced restore
    over such a database first backs it up with M(deploysafe.preflight.pg_backup)'s code path (custom format,
    C(copy_sha256) table fingerprints, the compression level of the backup restored; with O(create=true) the existing database named in
    the backup), see O(pre_restore_backup).
  - The plaintext is checked against the manifest's sha256; any error from the restore tool fails the task.
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
    description:
      - Parallel C(pg_restore) jobs for custom-format backups. Above 1 the dump is first unpacked into a 0600
        temporary file in O(work_dir) (parallel restore needs a seekable file); 1 streams it through a pipe.
      - A directory-format backup is always unpacked (regular files only; absolute paths, C(..) and links
        are refused) into a private temporary directory in O(work_dir), removed afterwards.
    type: int
    default: 2
  work_dir:
    description: Directory for that temporary file; default the system temporary directory.
    type: path
  clean:
    description: Drop the backup's objects before recreating them (C(--clean --if-exists)).
    type: bool
    default: false
  create:
    description:
      - Create the database named in the backup (C(--create)); O(dbname) is then only the database to connect to.
    type: bool
    default: false
  force:
    description:
      - Restore even though the target is not empty. The target is first backed up (O(pre_restore_backup)).
    type: bool
    default: false
  verify:
    description:
      - After the restore, compare the target with the backup's manifest in SQL (every table's row count and
        content hash, foreign key and check constraints, sequences), as
        M(deploysafe.preflight.pg_restore_verify) does on its scratch database. Any difference, including a table
        the manifest does not list, makes the verdict C(fail); RV(verification) has the details.
    type: bool
    default: false
    version_added: 0.1.0
  no_owner:
    description: Do not restore object ownership (C(--no-owner)), e.g. on a server without the original roles.
    type: bool
    default: false
  no_privileges:
    description: Do not restore grants (C(--no-privileges)).
    type: bool
    default: false
extends_documentation_fragment:
  - deploysafe.preflight.postgres
  - deploysafe.preflight.postgres.client_programs
  - deploysafe.preflight.verdict
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.pre_restore
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Connects and reports the plan (target, format, jobs, whether the target is occupied) and what the
      pre-restore backup would write (pg_backup's check mode - privileges, destination, free space; a problem found
      fails the task, as the real run would refuse); writes and restores nothing. The verdict is C(pending) and
      O(fail_on) is not applied to it.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Restore into an empty database
  deploysafe.preflight.pg_restore:
    host: db-staging.internal
    user: postgres
    password: "{{ vault_pg_password }}"
    dbname: app_restored
    path: /var/backups/pg/nightly-app-20261125T140000Z.dump.zst.age
    identity_file: /etc/preflight/backup-key.txt
    jobs: 4

- name: Restore over the live database; it is backed up first (undo with playbooks/undo_restore.yml)
  deploysafe.preflight.pg_restore:
    host: db-staging.internal
    user: postgres
    password: "{{ vault_pg_password }}"
    dbname: app
    path: /var/backups/pg/nightly-app-20261125T140000Z.dump.zst.age
    identity_file: /etc/preflight/backup-key.txt
    force: true
    clean: true
    verify: true
  register: restored

- name: Keep the result for the undo playbook (-e undo_pg_backup=/var/backups/pg/restore-result.json)
  ansible.builtin.copy:
    content: "{{ restored | to_json }}"
    dest: /var/backups/pg/restore-result.json
    mode: "0600"
"""

RETURN = r"""
plan:
  description: Target, format, jobs, clean/create, and what occupies the target if anything.
  returned: always
  type: dict
  sample: {"target": "app_restored", "format": "custom", "jobs": 4, "target_occupied": null, "refused": null}
duration:
  description: Seconds the restore took.
  returned: success and not check mode
  type: float
  sample: 2.6
warnings_restore:
  description: Warning lines printed by the restore tool.
  returned: success and not check mode
  type: list
  elements: str
  sample: []
pre_restore_backup:
  description:
    - The safety net. C(taken) says whether the target was backed up before the restore, C(reason) why (or why
      not - an empty target, O(pre_restore_backup=false), check mode with C(would_write)).
    - When taken, C(path), C(manifest), C(sha256) and C(size) of the verified artifact, C(target), C(kind)
      (C(postgresql)), C(tables), C(encrypted), C(verified), C(plaintext_checked) and C(duration).
  returned: always
  type: dict
  sample: {"taken": true, "kind": "postgresql", "target": "app",
           "path": "/var/backups/pg/pre-restore/pre-restore-app-20261203T101500Z.dump.zst.age",
           "manifest": "/var/backups/pg/pre-restore/pre-restore-app-20261203T101500Z.dump.zst.age.manifest.json",
           "sha256": "0821ed3ea9ce63f166232451ee0bdd5c3603189d37672dee7be315a31ce350ff", "size": 45936,
           "tables": 5, "encrypted": true, "verified": true, "plaintext_checked": true, "duration": 0.8,
           "reason": "app was not empty: backed up before the restore overwrote it"}
verification:
  description:
    - With O(verify), the comparison of the target with the manifest (C(differing_tables),
      C(constraint_violations), C(sequences_behind), C(tables_compared), C(sequences_checked),
      C(constraints_checked), C(duration_s)).
  returned: success, not check mode, and O(verify=true)
  type: dict
  sample: {"differing_tables": [], "constraint_violations": [], "sequences_behind": [], "tables_compared": 5,
           "sequences_checked": 4, "constraints_checked": {"foreign_keys": 3, "checks": 1}, "duration_s": 0.2}
verdict:
  description:
    - Evidence contract of the restore, with the pre-restore backup and its manifest among the artifacts when one
      was taken. C(fail) when O(verify) found a difference; C(pending) in check mode.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "restored into app_restored in 2.6 s", "evidence": {}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import ArchiveError
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive.prerestore import (
    pre_restore_argument_spec, pre_restore_options)
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import (
    postgres_argument_spec, restore_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.prerestore import (
    restore_verdict, restore_with_safety_net)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    FAIL_ON, gate_failed, stamp_module_verdicts)


def main():
    spec = postgres_argument_spec()
    spec.update(restore_argument_spec())
    spec.update(
        path=dict(type="path", required=True),
        manifest=dict(type="path"),
        clean=dict(type="bool", default=False),
        create=dict(type="bool", default=False),
        force=dict(type="bool", default=False),
        verify=dict(type="bool", default=False),
        fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
    )
    spec.update(pre_restore_argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    stamp_module_verdicts(module, "pg_restore")
    p = module.params
    requires(module, "psycopg", "zstandard",
             "pyrage" if p["identity_file"] or p["pre_restore_encrypt_recipients"] else None)
    opts = RestoreOptions(jobs=max(1, p["jobs"]), clean=p["clean"], create=p["create"], force=p["force"],
                          no_owner=p["no_owner"], no_privileges=p["no_privileges"], identity_file=p["identity_file"],
                          manifest_file=p["manifest"], work_dir=p["work_dir"], bindir=p["bindir"])
    pre = pre_restore_options(p)
    params = ConnParams.from_params(p)
    try:
        run = restore_with_safety_net(params, p["path"], opts, pre, check_mode=module.check_mode, verify=p["verify"])
    except (PgError, ArchiveError) as exc:
        module.fail_json(msg=f"pg_restore of {p['path']} failed: {exc}")
    record = run["pre_restore_backup"]
    if record.get("unprotected"):
        module.warn(f"pg_restore overwrites {run['plan']['target']} without a pre-restore backup "
                    "(pre_restore_backup: false): it cannot be undone")
    verdict = restore_verdict(p["path"], p["manifest"], run, module.check_mode)
    if module.check_mode:
        module.exit_json(changed=True, plan=run["plan"], pre_restore_backup=record, verdict=verdict)
    out = dict(changed=True, plan=run["plan"], duration=run["duration_s"], warnings_restore=run["warnings"],
               pre_restore_backup=record, verdict=verdict)
    if "verification" in run:
        out["verification"] = run["verification"]
    if gate_failed(verdict["status"], p["fail_on"]):
        module.fail_json(msg=f"pg_restore into {run['plan']['target']}: {verdict['summary']}", **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
