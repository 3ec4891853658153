#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_retention
short_description: Prune backups with a GFS policy that never deletes the newest verified one, or audit them
version_added: 0.1.0
description:
  - Works on a O(location) where M(deploysafe.preflight.pg_backup) or M(deploysafe.preflight.s3_backup) (archive
    mode) write, a local directory or an C(s3://bucket/prefix/). An artifact (C(*.zst), C(*.zst.age)), its
    C(.manifest.json), its C(.objects.jsonl) and its C(.verified.json) form one backup set; they are kept or
    removed together, never one alone. Other files are never touched.
  - O(mode=prune) applies O(policy) with restic's C(forget) semantics and returns every kept backup with the rules
    that kept it. The newest backup whose verification record (written by M(deploysafe.preflight.backup_verify)
    with O(deploysafe.preflight.backup_verify#module:record=true)) says C(pass) is never deleted, whatever the policy.
  - Orphans (an artifact without manifest or the reverse) and leftover C(.partial) files of a killed backup are
    reported and, once older than O(orphan_age), removed.
  - O(mode=audit) changes nothing and returns the step-6 verdict, C(fail) when the newest backup is older than
    O(max_age), is not verified, or a day among the last O(audit_days) has no backup; C(pending) when there is no
    backup to judge.
  - Differences from restic, on purpose. Buckets (hour, day, ISO week, month, year) are computed in O(timezone)
    (default UTC) rather than in each backup's own recorded offset. Backups with the same time are ordered by name
    (the larger name counts as newer) rather than by listing order. Backups dated more than 5 minutes in the future
    (clock skew) are kept, reported, and used by no rule.
options:
  location:
    description: The directory, or C(s3://bucket/prefix/) (connection in O(s3)), that holds the backups.
    type: str
    required: true
  mode:
    description: C(prune) applies O(policy); C(audit) only judges the backup history.
    type: str
    choices: [prune, audit]
    default: prune
  policy:
    description:
      - What to keep (required with O(mode=prune)). Rules are ORed; a backup kept by several rules lists them all.
      - Counts are whole numbers; C(-1) means unlimited, C(0) or unset means the rule is off; other negative values
        are an error. A policy with no rule set is an error (it would remove everything).
      - Durations are numbers with units C(y), C(m) (months), C(d), C(h), for example C(7d) or C(1y2m); they are
        measured back from the newest backup, not from now, so that backups which stop do not get everything deleted.
    type: dict
    suboptions:
      keep_last:
        description: Keep the newest N backups.
        type: int
      keep_hourly:
        description: Keep the newest backup of each of the last N hours that have one.
        type: int
      keep_daily:
        description: Keep the newest backup of each of the last N days that have one.
        type: int
      keep_weekly:
        description: Keep the newest backup of each of the last N ISO weeks (Monday to Sunday) that have one.
        type: int
      keep_monthly:
        description: Keep the newest backup of each of the last N months that have one.
        type: int
      keep_yearly:
        description: Keep the newest backup of each of the last N years that have one.
        type: int
      keep_within:
        description: Keep every backup newer than the newest backup minus this duration.
        type: str
      keep_within_hourly:
        description: Keep the newest backup of every hour within this duration of the newest backup.
        type: str
      keep_within_daily:
        description: Keep the newest backup of every day within this duration of the newest backup.
        type: str
      keep_within_weekly:
        description: Keep the newest backup of every ISO week within this duration of the newest backup.
        type: str
      keep_within_monthly:
        description: Keep the newest backup of every month within this duration of the newest backup.
        type: str
      keep_within_yearly:
        description: Keep the newest backup of every year within this duration of the newest backup.
        type: str
  timezone:
    description: IANA time zone in which hours, days, weeks, months and years are counted (also for O(audit_days)).
    type: str
    default: UTC
  orphan_age:
    description:
      - Orphans and C(.partial) files whose newest file is older than this duration are removed with the pruning;
        younger ones may belong to a backup that is still running and are only reported.
      - An empty value only reports them.
    type: str
    default: 1d
  max_age:
    description: Audit; the newest backup must be younger than this duration (26 hours suits a daily schedule).
    type: str
    default: 26h
  audit_days:
    description:
      - Audit; each of the last this many calendar days (in O(timezone)) must have a backup. The days end today
        when today already has a backup, else yesterday (today's run may still be ahead; O(max_age) judges
        freshness), so that C(keep_daily=N) and C(audit_days=N) agree. Days before the oldest backup are not judged.
        C(0) turns the check off.
    type: int
    default: 7
  status_file:
    description:
      - Audit; the status file that the scheduled job of the C(deploysafe.preflight.backup_schedule) role writes on
        this host. When given, the last scheduled run must have
        succeeded (else C(fail)), and a missing file (the job never ran) makes the verdict at best C(pending).
    type: path
  s3:
    description: S3 connection used when O(location) is C(s3://...) (same options as the S3 modules).
extends_documentation_fragment:
  - deploysafe.preflight.s3.nested
  - deploysafe.preflight.verdict
  - deploysafe.preflight.verdict.fail_on
  - deploysafe.preflight.attributes
attributes:
  check_mode:
    support: full
    details: Plans and reports exactly which files would be removed (RV(would_remove)); deletes nothing.
  diff_mode:
    support: full
    details: The list of backup files at the location before and after.
requirements:
  - boto3 (Python library) for an C(s3://) location
  - zoneinfo time zone data for a O(timezone) other than UTC
seealso:
  - module: deploysafe.preflight.backup_verify
  - module: deploysafe.preflight.pg_backup
  - module: deploysafe.preflight.s3_backup
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Keep 7 daily, 4 weekly and 6 monthly backups (see what would go first with --check --diff)
  deploysafe.preflight.backup_retention:
    location: /var/backups/pg
    policy:
      keep_daily: 7
      keep_weekly: 4
      keep_monthly: 6

- name: The same on an S3 prefix, counting days in the operators' time zone
  deploysafe.preflight.backup_retention:
    location: s3://backups/pg/
    s3:
      endpoint_url: https://minio.example.com:9000
      access_key: "{{ vault_s3_access_key }}"
      secret_key: "{{ vault_s3_secret_key }}"
    timezone: Europe/Paris
    policy:
      keep_within_daily: 14d
      keep_monthly: -1

- name: Step 6 - is there a recent verified backup for every day of the last week?
  deploysafe.preflight.backup_retention:
    location: /var/backups/pg
    mode: audit
    max_age: 26h
    audit_days: 7
    fail_on: never
  register: backup_audit
"""

RETURN = r"""
keep:
  description: Backups kept (newest first) with their time (UTC), verification state and the rules that kept them.
  returned: mode=prune
  type: list
  elements: dict
  sample: [{"name": "nightly-app-20261125T020000Z.dump.zst", "time": "2026-11-25T02:00:00Z", "verification": "pass",
            "size_bytes": 1048576, "reasons": ["daily backup", "weekly backup", "newest verified backup (never deleted)"]}]
remove:
  description: Backups the policy does not keep, with the files of each set (removed unless in check mode).
  returned: mode=prune
  type: list
  elements: dict
  sample: [{"name": "nightly-app-20261101T020000Z.dump.zst", "time": "2026-11-01T02:00:00Z", "verification": null,
            "size_bytes": 1048576, "files": ["nightly-app-20261101T020000Z.dump.zst.manifest.json",
                                              "nightly-app-20261101T020000Z.dump.zst"]}]
would_remove:
  description: Every file the plan deletes, in deletion order (manifest before artifact).
  returned: mode=prune
  type: list
  elements: str
removed:
  description: Files actually deleted (empty in check mode).
  returned: mode=prune
  type: list
  elements: str
remaining:
  description: Files that should have been deleted but could not be (see RV(errors)); the next run finishes them.
  returned: mode=prune
  type: list
  elements: str
errors:
  description: Deletion errors.
  returned: mode=prune
  type: list
  elements: str
protected:
  description: The newest verified backup, which is never deleted (null when no backup is verified).
  returned: mode=prune
  type: str
  sample: nightly-app-20261125T020000Z.dump.zst
orphans:
  description: Incomplete sets (artifact without manifest or the reverse) with their files, age and action.
  returned: always
  type: list
  elements: dict
partials:
  description: Leftover C(.partial) files (prune - with age and action; audit - names).
  returned: always
  type: list
  elements: raw
damaged:
  description: Complete sets whose manifest cannot be used (not valid, edited); they are reported, never deleted.
  returned: always
  type: list
  elements: dict
future:
  description: Backups dated in the future (clock skew); kept and used by no rule.
  returned: mode=prune
  type: list
  elements: str
policy:
  description: The policy in words.
  returned: mode=prune
  type: str
  sample: keep 7 daily, 4 weekly backups
status:
  description: Audit with O(status_file); the status document of the scheduled job (null when it never ran).
  returned: mode=audit
  type: dict
backups:
  description: Audit; every complete backup, newest first, with time and verification state.
  returned: mode=audit
  type: list
  elements: dict
location:
  description: The location as judged (for S3 with the endpoint).
  returned: always
  type: str
verdict:
  description:
    - Audit - C(fail) when the newest backup is too old or unverified or a day is missing, C(pending) when there
      is no backup; measurements C(newest_backup_age), C(newest_backup_verified), C(missing_days).
    - Prune - C(pass) when every planned deletion succeeded, C(fail) when some files remain.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention import RetentionError
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.run import audit, prune
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.store import S3_SCHEME, open_store
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import (
    S3Conn, s3_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL_ON, gate_failed

COUNTS = ("keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly")
WITHINS = ("keep_within", "keep_within_hourly", "keep_within_daily", "keep_within_weekly", "keep_within_monthly",
           "keep_within_yearly")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            location=dict(type="str", required=True),
            mode=dict(type="str", choices=["prune", "audit"], default="prune"),
            policy=dict(type="dict", options={**{k: dict(type="int") for k in COUNTS},
                                              **{k: dict(type="str") for k in WITHINS}}),
            timezone=dict(type="str", default="UTC"),
            orphan_age=dict(type="str", default="1d"),
            max_age=dict(type="str", default="26h"),
            audit_days=dict(type="int", default=7),
            status_file=dict(type="path"),
            fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
            s3=dict(type="dict", options=s3_argument_spec()),
        ),
        required_if=[("mode", "prune", ["policy"])],
        supports_check_mode=True,
    )
    p = module.params
    if p["location"].startswith(S3_SCHEME):
        requires(module, "boto3", reason="for an s3:// location")
    try:
        store = open_store(p["location"], S3Conn.from_params(p["s3"] or {}))
        if p["mode"] == "audit":
            result = audit(store, max_age=p["max_age"], days=p["audit_days"], tz_name=p["timezone"],
                           status_file=p["status_file"])
        else:
            result = prune(store, p["policy"], check_mode=module.check_mode, tz_name=p["timezone"],
                           orphan_age=p["orphan_age"] or None)
    except RetentionError as exc:
        module.fail_json(msg=f"backup_retention ({p['mode']}) of {p['location']}: {exc}")
    diff = result.pop("diff", None)
    if module._diff and diff is not None:
        result["diff"] = diff
    if gate_failed(result["verdict"]["status"], p["fail_on"]):
        module.fail_json(msg=f"backup_retention ({p['mode']}) of {p['location']}: {result['verdict']['summary']}",
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
