#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pgbackrest_restore_verify
short_description: Point-in-time restore drill - restore a pgBackRest backup into a scratch cluster and prove the data
version_added: 0.1.0
description:
  - Runs C(pgbackrest verify) (checksums of the repository; damaged files are named and the drill stops there),
    writes a marker row, forces a WAL switch on the source and waits until the archiver has pushed it (a target whose
    WAL is not archived cannot be reached), then restores the latest backup, or the newest backup before a target
    time / LSN / restore point (B(PITR)), into a new scratch directory with C(--archive-mode=off) (the scratch
    cluster never pushes WAL into the production repository).
  - Starts it as O(os_user) on a free port (Unix socket only, in a 0700 directory, no TCP), waits until recovery
    reaches the target and the cluster is promoted, then proves the data - every database connectable,
    C(pg_amcheck --heapallindexed) clean (heap and B-tree; the C(amcheck) extension is installed in the scratch
    cluster where missing), every marker written before the target present and none written after it, the row count
    of every table recorded.
  - Measures B(RTO) (from the start of the restore to the data proven) and B(RPO) (the target minus the time the
    archiver had last pushed a segment before the drill forced a switch - the WAL the repository did not hold yet).
  - The scratch cluster is stopped and its directory removed at the end, also on failure, unless O(keep_scratch).
  - A target before the end of the first backup, a missing stanza or an unknown backup set is an error before
    anything is restored.
options:
  target_type:
    description: C(latest) (end of the archived WAL), C(time), C(lsn), C(name) (a restore point) or C(immediate) (the end of the backup).
    type: str
    choices: [latest, time, lsn, name, immediate]
    default: latest
  target:
    description: The target for O(target_type=time) (a timestamp PostgreSQL reads, with a time zone), C(lsn) or C(name).
    type: str
    default: ""
  backup_set:
    description: Restore this backup label; default the newest backup that ended before the target.
    type: str
    default: ""
  scratch_dir:
    description: Directory in which the scratch cluster's directory is made; default the system temporary directory.
    type: path
  scratch_port:
    description: Port of the scratch cluster (its Unix socket's number; it listens on no TCP address); 0 picks a free one.
    type: int
    default: 0
  amcheck:
    description: Run C(pg_amcheck) over every database.
    type: bool
    default: true
  heapallindexed:
    description: With O(amcheck), check that every heap tuple has its index entries (C(--heapallindexed)).
    type: bool
    default: true
  verify_repository:
    description: Run C(pgbackrest verify) before restoring.
    type: bool
    default: true
  marker_database:
    description: Database holding the marker table (as for M(deploysafe.preflight.pgbackrest_backup)).
    type: str
    default: postgres
  write_marker:
    description:
      - Write a marker just before the restore (absent after a restore to an earlier time). The row in the source is
        the module's only change outside the scratch cluster (C(changed)).
    type: bool
    default: true
  archive_wait:
    description: Longest wait, in seconds, for the switched WAL segment to reach the repository.
    type: float
    default: 60
  recovery_timeout:
    description: Longest wait, in seconds, for the start and the recovery of the scratch cluster.
    type: float
    default: 1800
  process_max:
    description: Parallel processes of the restore; 0 uses the configuration's C(process-max).
    type: int
    default: 0
  rto_target:
    description: Longest acceptable RTO in seconds; 0 records RTO without a threshold.
    type: float
    default: 0
  rpo_target:
    description: Largest acceptable RPO in seconds; 0 records RPO without a threshold.
    type: float
    default: 0
  keep_scratch:
    description: Leave the scratch cluster's directory in place (stopped) for debugging.
    type: bool
    default: false
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
      - Reads C(pgbackrest info), checks the target against the backups and says which backup would be restored; restores
        nothing, writes no marker; verdict C(pending) (restorability needs a restore).
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: PITR drill - restore to ten minutes ago and prove the data
  deploysafe.preflight.pgbackrest_restore_verify:
    stanza: main
    target_type: time
    target: "{{ '%Y-%m-%d %H:%M:%S+00' | strftime(ansible_date_time.epoch | int - 600, utc=true) }}"
    password: "{{ vault_pg_superuser_password }}"
    rto_target: 1800
    rpo_target: 300
  register: drill

- name: Restore the latest backup and prove it (the pre-deployment step)
  deploysafe.preflight.pgbackrest_restore_verify:
    stanza: main
    password: "{{ vault_pg_superuser_password }}"
"""

RETURN = r"""
backup_label:
  description: The backup restored.
  returned: success and not check mode
  type: str
  sample: 20261203-153455F_20261203-154109I
target:
  description: The target as restored (a time in UTC, as the server read it).
  returned: always
  type: dict
  sample: {"type": "time", "value": "2026-12-03 15:40:00.123456+00"}
rto_seconds:
  description: Start of the restore to the data proven.
  returned: when the data was proven
  type: float
  sample: 8.2
rpo_seconds:
  description: Target minus the last archiving before the drill's WAL switch (0 when the target was archived).
  returned: when measured (latest and time targets)
  type: float
  sample: 4.0
properties:
  description: pass, fail or pending per proven property.
  returned: success and not check mode
  type: dict
  sample: {"wal_archived": "pass", "restored": "pass", "amcheck_clean": "pass", "scratch_removed": "pass"}
row_counts:
  description: Rows per table of every database of the restored cluster.
  returned: when the data was proven
  type: dict
  sample: {"app": {"public.orders": 3000}}
markers:
  description: Markers expected present (before), expected absent (after), and too close to the target to say.
  returned: success and not check mode
  type: dict
amcheck:
  description: pg_amcheck's exit code and what it reported.
  returned: when O(amcheck) ran
  type: dict
  sample: {"clean": true, "exit_code": 0, "problems": []}
repository:
  description: The result of C(pgbackrest verify).
  returned: when O(verify_repository) ran
  type: dict
  sample: {"status": "ok", "damaged_files": []}
cleanup:
  description: Whether the scratch cluster stopped, its directory is gone and its port is free.
  returned: success and not check mode
  type: dict
  sample: {"stopped": true, "removed": true, "port_free": true}
timings:
  description: Seconds of verify, restore, recovery and amcheck.
  returned: success and not check mode
  type: dict
verdict:
  description: Evidence contract; RTO and RPO as measurements (with the targets as thresholds when given).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest import PgBackRestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.args import (
    from_params, pgbackrest_argument_spec, server_bindir)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.drill_verdict import (
    drill_properties, drill_verdict)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.restore_verify import (
    TARGET_TYPES, DrillOptions, choose_backup, prepare_target, restore_verify)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    FAIL_ON, PENDING, gate_failed, make_verdict, stamp_module_verdicts)


def main():
    spec = pgbackrest_argument_spec()
    spec.update(
        target_type=dict(type="str", choices=list(TARGET_TYPES), default="latest"),
        target=dict(type="str", default=""),
        backup_set=dict(type="str", default=""),
        scratch_dir=dict(type="path"),
        scratch_port=dict(type="int", default=0),
        amcheck=dict(type="bool", default=True),
        heapallindexed=dict(type="bool", default=True),
        verify_repository=dict(type="bool", default=True),
        marker_database=dict(type="str", default="postgres"),
        write_marker=dict(type="bool", default=True),
        archive_wait=dict(type="float", default=60),
        recovery_timeout=dict(type="float", default=1800),
        process_max=dict(type="int", default=0),
        rto_target=dict(type="float", default=0),
        rpo_target=dict(type="float", default=0),
        keep_scratch=dict(type="bool", default=False),
        fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_if=[("target_type", "time", ("target",)), ("target_type", "lsn", ("target",)),
                                        ("target_type", "name", ("target",))])
    stamp_module_verdicts(module, "pgbackrest_restore_verify")
    p = module.params
    requires(module, "psycopg")
    try:
        runner, source = from_params(p)
        target = prepare_target(runner, source, p["target_type"], p["target"])
        shown = {"type": target.kind, "value": target.value}
        if module.check_mode:
            label = choose_backup(runner.info(), target, p["backup_set"])["label"]
            module.exit_json(changed=p["write_marker"], target=shown, backup_label=label, verdict=make_verdict(
                PENDING, f"check mode: would restore {label} of stanza {p['stanza']} to {target.kind} "
                         f"{target.value} into a scratch cluster and prove it"))
        opts = DrillOptions(bindir=server_bindir(p["bindir"], runner), scratch_base=p["scratch_dir"],
                            port=p["scratch_port"],
                            backup_set=p["backup_set"], amcheck=p["amcheck"], heapallindexed=p["heapallindexed"],
                            verify_repository=p["verify_repository"], recovery_timeout=p["recovery_timeout"],
                            archive_timeout=p["archive_wait"], process_max=p["process_max"],
                            keep_scratch=p["keep_scratch"], marker_db=p["marker_database"],
                            write_marker=p["write_marker"])
        result = restore_verify(runner, source, target, opts)
    except (PgBackRestError, PgError) as exc:
        module.fail_json(msg=f"pgbackrest_restore_verify of stanza {p['stanza']} failed: {exc}")
    verdict = drill_verdict(result, f"stanza {p['stanza']} ({runner.config.repo_where()})",
                            rto_target=p["rto_target"] or None, rpo_target=p["rpo_target"] or None)
    # the marker row is the only change outside the scratch cluster, which is gone again
    out = dict(changed=result.marker is not None, backup_label=result.backup_label, target=shown, rto_seconds=result.rto_s,
               rpo_seconds=result.rpo_s, properties=drill_properties(result), markers=result.markers,
               cleanup=result.cleanup, timings=result.durations, wal=result.wal, verdict=verdict,
               row_counts=result.proof.row_counts if result.proof else {})
    if result.amcheck is not None:
        out["amcheck"] = {"clean": result.amcheck.clean, "exit_code": result.amcheck.exit_code,
                          "problems": result.amcheck.problems}
    if result.verify is not None:
        out["repository"] = {"status": result.verify.status, "damaged_files": result.verify.bad_files}
    if gate_failed(verdict["status"], p["fail_on"]):
        module.fail_json(msg=f"PITR drill of stanza {p['stanza']}: {verdict['summary']}", **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
