#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_health
short_description: Check PostgreSQL connection headroom, long transactions, blocked locks and slow statements
version_added: 0.1.0
description:
  - Fails before connection exhaustion (connections in use versus C(max_connections) minus the superuser
    reserve), on transactions open longer than O(long_transaction_seconds), and on sessions waiting for a
    lock longer than O(blocked_seconds).
  - Reports the slowest statements from C(pg_stat_statements) when the extension is installed, and fails
    when one is slower on average than O(slow_statement_mean_ms).
  - Meant to run before and during a load test.
options:
  max_connections_pct:
    description: Fail when this share (percent) of usable connections is in use.
    type: float
    default: 80.0
  long_transaction_seconds:
    description: Transactions open longer than this fail the check.
    type: float
    default: 300.0
  blocked_seconds:
    description: Sessions waiting for a lock longer than this count as blocked.
    type: float
    default: 5.0
  max_blocked:
    description: Most blocked sessions tolerated.
    type: int
    default: 0
  slow_statement_mean_ms:
    description: Fail when a statement's mean time in pg_stat_statements exceeds this; no limit when unset.
    type: float
  top_statements:
    description: How many of the slowest statements to report.
    type: int
    default: 5
notes:
  - Sessions of other roles are visible only to a superuser or a member of C(pg_read_all_stats).
  - C(pg_stat_statements) is looked up in the database connected to (O(dbname)).
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
- name: Database has headroom before the load test
  deploysafe.preflight.pg_health:
    host: db.internal
    port: 5432
    user: monitor
    password: "{{ vault_monitor_password }}"
    dbname: app
    sslmode: verify-full
    ca_cert: /etc/preflight/pg-ca.crt
    max_connections_pct: 70
    long_transaction_seconds: 60
    slow_statement_mean_ms: 250
  register: pg
"""

RETURN = r"""
verdict:
  description: The evidence contract; the summary names each problem (pids, durations, the slow statement).
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "PostgreSQL 127.0.0.1:5432/app: healthy (4/97 connections, no long transactions or blocked locks)",
           "evidence": {"artifacts": [], "findings": {"problems": 0}, "measurements": []}}
connections:
  description: Connections in use, max_connections, reserved, used_pct.
  returned: success
  type: dict
  sample: {"in_use": 4, "max_connections": 100, "reserved": 3, "used_pct": 4.1}
long_transactions:
  description: Transactions open longer than the limit (pid, user, database, state, seconds, query).
  returned: success
  type: list
  elements: dict
  sample: []
blocked:
  description: Sessions waiting for locks (pid, user, blocked_by, seconds, query).
  returned: success
  type: list
  elements: dict
  sample: []
statements:
  description: Slowest statements by mean time (query, calls, mean_ms, total_ms); null without pg_stat_statements.
  returned: success
  type: list
  elements: dict
  sample: [{"query": "SELECT id, name FROM workspaces ORDER BY id LIMIT $1", "calls": 1200, "mean_ms": 0.2, "total_ms": 240.0}]
pg_stat_statements:
  description: Whether the extension is installed in O(db).
  returned: success
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.health.pg import PgHealthOptions, check_pg_health
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import postgres_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL_ON, gate_failed

LIMITS = ("max_connections_pct", "long_transaction_seconds", "blocked_seconds", "max_blocked", "slow_statement_mean_ms",
          "top_statements")


def main():
    spec = postgres_argument_spec(client_programs=False)
    spec.update(
        max_connections_pct=dict(type="float", default=80.0),
        long_transaction_seconds=dict(type="float", default=300.0),
        blocked_seconds=dict(type="float", default=5.0),
        max_blocked=dict(type="int", default=0),
        slow_statement_mean_ms=dict(type="float"),
        top_statements=dict(type="int", default=5),
        fail_on=dict(type="str", choices=list(FAIL_ON), default="fail"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    stamp_module_verdicts(module, "pg_health")
    requires(module, "psycopg")
    p = module.params
    params = ConnParams.from_params(p)
    try:
        result = check_pg_health(params, PgHealthOptions(**{k: p[k] for k in LIMITS}))
    except PgError as exc:
        module.fail_json(msg=f"pg_health: {exc}")
    if gate_failed(result["verdict"]["status"], p["fail_on"]):
        module.fail_json(msg=f"pg_health: {result['verdict']['summary']}", changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
