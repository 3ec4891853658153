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
  - Refuses a target database that already holds tables, views or sequences unless O(force=true).
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
    description: Restore even though the target is not empty.
    type: bool
    default: false
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
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Connects and reports the plan (target, format, jobs, whether the target is occupied); restores nothing.
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
verdict:
  description: Evidence contract of the restore.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "restored into app_restored in 2.6 s", "evidence": {}}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import ArchiveError, manifest_path
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import (
    postgres_argument_spec, restore_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.restore import RestoreOptions, restore_artifact
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    stamp_module_verdicts, PASS, PENDING, artifact, make_verdict, measurement)


def main():
    spec = postgres_argument_spec()
    spec.update(restore_argument_spec())
    spec.update(
        path=dict(type="path", required=True),
        manifest=dict(type="path"),
        clean=dict(type="bool", default=False),
        create=dict(type="bool", default=False),
        force=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    stamp_module_verdicts(module, "pg_restore")
    p = module.params
    requires(module, "psycopg", "zstandard", "pyrage" if p["identity_file"] else None)
    opts = RestoreOptions(jobs=max(1, p["jobs"]), clean=p["clean"], create=p["create"], force=p["force"],
                          no_owner=p["no_owner"], no_privileges=p["no_privileges"], identity_file=p["identity_file"],
                          manifest_file=p["manifest"], work_dir=p["work_dir"], bindir=p["bindir"])
    params = ConnParams.from_params(p)
    try:
        run = restore_artifact(params, p["path"], opts, check_mode=module.check_mode)
    except (PgError, ArchiveError) as exc:
        module.fail_json(msg=f"pg_restore of {p['path']} failed: {exc}")
    plan = run["plan"]
    mpath = p["manifest"] or manifest_path(p["path"])
    arts = [artifact(p["path"], kind="backup")] + ([artifact(mpath, kind="manifest")] if os.path.isfile(mpath) else [])
    if module.check_mode:
        verdict = make_verdict(PENDING, f"would restore {os.path.basename(p['path'])} into {plan['target']}",
                               artifacts=arts)
        module.exit_json(changed=True, plan=plan, verdict=verdict)
    verdict = make_verdict(PASS, f"restored into {plan['target']} in {run['duration_s']} s", artifacts=arts,
                           findings={"warnings": len(run["warnings"])},
                           measurements=[measurement("restore_duration", run["duration_s"], "s")])
    module.exit_json(changed=True, plan=plan, duration=run["duration_s"], warnings_restore=run["warnings"],
                     verdict=verdict)


if __name__ == "__main__":
    main()
