#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_scratch_database
short_description: Create or drop a marked scratch PostgreSQL database for drills and restore rehearsals
version_added: 0.1.0
description:
  - O(state=present) creates O(name) empty (from C(template0)) with the comment C(deploysafe-scratch); an existing
    database without that comment is refused.
  - O(state=absent) drops O(name), closing its sessions, but only when it carries the comment, so a mistyped name
    cannot drop real data.
  - O(dbname) is only the maintenance database to connect to (default C(postgres)); the connecting role needs
    C(CREATEDB), and ownership of O(name) (or superuser) to drop it.
options:
  name:
    description: The scratch database; lower-case letters, digits and C(_), at most 63 characters.
    type: str
    required: true
  state:
    description: C(present) or C(absent).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - deploysafe.preflight.postgres
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Connects and reports what would be created or dropped (and refuses an unmarked database); changes nothing.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Create the drill's scratch database
  deploysafe.preflight.pg_scratch_database:
    host: db1.internal
    user: postgres
    password: "{{ pg_admin_password }}"
    name: drill_20261203t074512z

- name: Drop it again (refused unless it is a scratch database)
  deploysafe.preflight.pg_scratch_database:
    host: db1.internal
    user: postgres
    password: "{{ pg_admin_password }}"
    name: drill_20261203t074512z
    state: absent
"""

RETURN = r"""
name:
  description: The scratch database.
  returned: always
  type: str
  sample: drill_20261203t074512z
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import postgres_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.scratch import (
    ensure_scratch_database, remove_scratch_database)


def main():
    spec = postgres_argument_spec(client_programs=False)
    spec.update(name=dict(type="str", required=True),
                state=dict(type="str", choices=["present", "absent"], default="present"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    requires(module, "psycopg")
    action = ensure_scratch_database if p["state"] == "present" else remove_scratch_database
    try:
        result = action(ConnParams.from_params(p), p["name"], check=module.check_mode)
    except PgError as exc:
        module.fail_json(msg=f"pg_scratch_database state={p['state']}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
