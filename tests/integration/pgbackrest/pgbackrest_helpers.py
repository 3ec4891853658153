"""Helpers of the pgBackRest tests (imported as a plain module: the test directory is on sys.path)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg

from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.restore_verify import DrillOptions

STANZA = "main"


def role_play(pg: dict, base: Path, **overrides) -> str:
    """A play applying the pgbackrest role to the archiving cluster; secrets stay in variables of the play
    file (the test writes it at run time), never on the command line."""
    variables = {
        "pgbackrest_config_file": str(base / "pgbackrest.conf"), "pgbackrest_stanza": STANZA,
        "pgbackrest_os_user": pg["os_user"] or os.environ.get("USER", "postgres"),
        "pgbackrest_pg_path": pg["data_dir"], "pgbackrest_pg_port": pg["port"],
        "pgbackrest_pg_socket_path": pg["socket_dir"], "pgbackrest_pg_user": pg["superuser"],
        "pgbackrest_pg_password": pg["superpassword"], "pgbackrest_bindir": pg["bindir"],
        "pgbackrest_repo_path": str(base / "repo"), "pgbackrest_log_path": str(base / "log"),
        "pgbackrest_lock_path": str(base / "lock"), "pgbackrest_spool_path": str(base / "spool"),
        # short waits: the failing-archive test waits this long for a segment that never comes
        "pgbackrest_archive_timeout": 5, "pgbackrest_retention_full": 2, "pgbackrest_fail_on": "fail",
        **overrides,
    }
    return ("- hosts: localhost\n  connection: local\n  gather_facts: false\n  vars: " + json.dumps(variables) +
            "\n  roles:\n    - role: deploysafe.preflight.pgbackrest\n")


def drill_options(pg: dict, **kw) -> DrillOptions:
    """Drill options with short waits (the cluster is tiny)."""
    return DrillOptions(bindir=pg["bindir"], archive_timeout=20, recovery_timeout=120, **kw)


def sql(params: ConnParams, statement: str, args=None):
    with psycopg.connect(**params.kwargs(), autocommit=True) as conn:
        cur = conn.execute(statement, args)
        return cur.fetchall() if cur.description else None
