#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pgbackrest_backup
short_description: Take a pgBackRest backup (full, differential or incremental) and prove WAL archiving works
version_added: 0.1.0
description:
  - Runs C(pgbackrest check) first (it forces a WAL switch and waits for the segment in the repository); when WAL
    archiving is broken the verdict is C(fail) and no backup is taken, since a backup without archived WAL cannot be
    restored to any point after it.
  - Then writes a marker row into C(deploysafe_preflight.drill_marker) of O(marker_database) (a later
    M(deploysafe.preflight.pgbackrest_restore_verify) proves it present), runs C(pgbackrest backup --type=<type>),
    reads C(pgbackrest info --output=json) for the new backup (label, type, sizes, WAL range, LSNs), and runs
    C(pgbackrest verify) (checksums of every file in the repository; the damaged files are named).
  - C(pass) only when archiving works, the backup completed without errors and, with O(verify), the repository
    verified clean. Retention is pgBackRest's own (C(repo1-retention-*) in the configuration) - the backup expires
    what it says.
options:
  type:
    description: Backup type. Without any backup in the repository pgBackRest takes a full one whatever is asked.
    type: str
    choices: [full, diff, incr]
    default: full
  marker:
    description: Write a marker row before the backup.
    type: bool
    default: true
  marker_database:
    description: Database holding the marker table (created on first use).
    type: str
    default: postgres
  verify:
    description: Run C(pgbackrest verify) after the backup.
    type: bool
    default: true
  timeout:
    description: Longest the backup (and the verify) may take, in seconds.
    type: float
    default: 21600
extends_documentation_fragment:
  - deploysafe.preflight.pgbackrest
  - deploysafe.preflight.postgres
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: partial
    details:
      - Reads C(pgbackrest info) (the stanza must exist) and says which backup would be taken; takes none, writes no
        marker, runs no C(check) (it would switch WAL); verdict C(pending).
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Incremental backup of the main stanza, archiving proven first
  deploysafe.preflight.pgbackrest_backup:
    config: /etc/pgbackrest/pgbackrest.conf
    stanza: main
    type: incr
    password: "{{ vault_pg_superuser_password }}"
  register: backup
"""

RETURN = r"""
backup:
  description: The new backup as pgbackrest info describes it.
  returned: when a backup was taken
  type: dict
  sample: {"label": "20261203-153455F", "type": "full", "database_size_bytes": 32323500,
           "repository_size_bytes": 3934210, "wal_start": "000000010000000000000002",
           "wal_stop": "000000010000000000000003", "lsn_start": "0/2000028", "lsn_stop": "0/3000088"}
archive_ok:
  description: Whether C(pgbackrest check) proved WAL archiving.
  returned: success and not check mode
  type: bool
repository:
  description: The result of C(pgbackrest verify) (status and damaged files).
  returned: when O(verify) ran
  type: dict
  sample: {"status": "ok", "damaged_files": []}
marker:
  description: The marker written before the backup.
  returned: when O(marker)
  type: dict
  sample: {"token": "backup-3f9a1c2b7d4e5f60", "kind": "backup", "written_at": 1796312095.4}
plan:
  description: What would be taken (check mode).
  returned: check mode
  type: dict
timings:
  description: Seconds of check, backup and verify.
  returned: success and not check mode
  type: dict
verdict:
  description: Evidence contract; measurements archive_check, backup_duration, sizes, repository_damaged_files.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest import PgBackRestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.args import (
    from_params, pgbackrest_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.backup import (
    BACKUP_TYPES, backup_summary, backup_verdict, plan_backup, run_backup)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    FAIL_ON, PENDING, gate_failed, make_verdict, stamp_module_verdicts)


def main():
    spec = pgbackrest_argument_spec()
    spec.update(
        type=dict(type="str", choices=list(BACKUP_TYPES), default="full"),
        marker=dict(type="bool", default=True),
        marker_database=dict(type="str", default="postgres"),
        verify=dict(type="bool", default=True),
        timeout=dict(type="float", default=21600),
        fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    stamp_module_verdicts(module, "pgbackrest_backup")
    p = module.params
    requires(module, "psycopg" if p["marker"] else None)
    try:
        runner, source = from_params(p)
        if module.check_mode:
            plan = plan_backup(runner, p["type"])
            module.exit_json(changed=True, plan=plan, verdict=make_verdict(
                PENDING, f"check mode: would take a {plan['type']} backup of stanza {p['stanza']}"))
        result = run_backup(runner, p["type"], marker_params=source.with_db(p["marker_database"]) if p["marker"] else None,
                            verify=p["verify"], timeout=p["timeout"])
    except (PgBackRestError, PgError) as exc:
        module.fail_json(msg=f"pgbackrest_backup of stanza {p['stanza']} failed: {exc}")
    verdict = backup_verdict(runner, result)
    out = dict(changed=result.backup is not None, archive_ok=result.archive_ok, marker=result.marker,
               timings=result.durations, verdict=verdict)
    if result.backup is not None:
        out["backup"] = backup_summary(result.backup)
    if result.verify is not None:
        out["repository"] = {"status": result.verify.status, "damaged_files": result.verify.bad_files}
    if gate_failed(verdict["status"], p["fail_on"]):
        module.fail_json(msg=f"pgbackrest backup of stanza {p['stanza']}: {verdict['summary']}", **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
