#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pgbackrest_stanza
short_description: Turn on WAL archiving into a pgBackRest stanza, create the stanza, and check it
version_added: 0.1.0
description:
  - Sets C(archive_mode=on), C(wal_level=replica) (C(logical) is kept) and the C(archive_command) that pushes each
    WAL segment into the stanza's repository with C(ALTER SYSTEM), then reloads the server. Settings already at
    their value change nothing.
  - C(archive_mode) and C(wal_level) take effect only after a restart, which this module never does; it returns
    C(restart_required) and a C(pending) verdict, and the role stops with that message.
  - Runs C(pgbackrest stanza-create) when the repository has no stanza yet, then C(pgbackrest check) (a forced WAL
    switch must reach the repository) - C(pass) when it does, C(fail) naming pgBackRest's error otherwise.
  - The configuration file itself is written by the M(deploysafe.preflight.pgbackrest) role (a template).
options:
  archive_timeout:
    description: Also set the server's C(archive_timeout) (seconds; bounds the RPO of a quiet server). Unset leaves it.
    type: int
  check:
    description: Run C(pgbackrest check) at the end.
    type: bool
    default: true
extends_documentation_fragment:
  - deploysafe.preflight.pgbackrest
  - deploysafe.preflight.postgres
  - deploysafe.preflight.verdict
  - deploysafe.preflight.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the settings and C(pgbackrest info) and returns the changes it would make; verdict C(pending).
      - When O(config) does not exist yet (the role would write it first), reports a change without reading anything.
  diff_mode:
    support: full
    details: The archive settings before and after.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Archive WAL into the main stanza
  deploysafe.preflight.pgbackrest_stanza:
    stanza: main
    password: "{{ vault_pg_superuser_password }}"
  register: stanza
"""

RETURN = r"""
changes:
  description: Settings changed (or that would be), with their values before and after.
  returned: always
  type: dict
  sample: {"archive_command": {"before": "", "after": "pgbackrest --config=/etc/pgbackrest/pgbackrest.conf --stanza=main archive-push %p"}}
restart_required:
  description: Settings that wait for a restart of PostgreSQL.
  returned: always
  type: list
  elements: str
  sample: []
stanza_created:
  description: Whether stanza-create ran (or would run).
  returned: always
  type: bool
check:
  description: The outcome of C(pgbackrest check).
  returned: when it ran
  type: dict
  sample: {"ok": true, "error": "", "duration_s": 0.6}
verdict:
  description: Evidence contract; measurement archive_check.
  returned: always
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest import PgBackRestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.args import (
    from_params, pgbackrest_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.stanza import apply, plan, stanza_verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import (
    PENDING, make_verdict, stamp_module_verdicts)


def main():
    spec = pgbackrest_argument_spec()
    spec.update(archive_timeout=dict(type="int"), check=dict(type="bool", default=True))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    stamp_module_verdicts(module, "pgbackrest_stanza")
    p = module.params
    requires(module, "psycopg")
    if module.check_mode and not os.path.exists(p["config"]):
        # the role's template task would write it first: nothing to read yet, everything would change
        module.exit_json(changed=True, changes={}, restart_required=[], stanza_created=True, verdict=make_verdict(
            PENDING, f"check mode: {p['config']} does not exist yet; once written, archiving into stanza "
                     f"{p['stanza']} would be turned on and the stanza created"))
    try:
        runner, source = from_params(p)
        the_plan = plan(runner, source, p["archive_timeout"])
        applied = None if module.check_mode else apply(runner, source, the_plan, check=p["check"])
    except (PgBackRestError, PgError) as exc:
        module.fail_json(msg=f"pgbackrest_stanza {p['stanza']} failed: {exc}")
    out = dict(changed=bool(the_plan.changes or the_plan.create_stanza), changes=the_plan.changes,
               restart_required=the_plan.restart_required,
               stanza_created=the_plan.create_stanza if applied is None else applied["stanza_created"],
               verdict=stanza_verdict(runner, the_plan, applied))
    if applied and applied.get("check"):
        out["check"] = applied["check"]
    if module._diff:
        out["diff"] = {"before": {k: v["before"] for k, v in the_plan.changes.items()},
                       "after": {k: v["after"] for k, v in the_plan.changes.items()}}
    module.exit_json(**out)


if __name__ == "__main__":
    main()
