"""One PostgreSQL cluster with WAL archiving on (the harness's postgres_archiving service) and one stanza,
configured by the pgbackrest role once per session and shared by every test of this directory (a role run
costs ~15 s on a busy machine: the suite stays within its time budget)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.command import PgBackRest
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.config import read_config

from pgbackrest_helpers import STANZA, role_play


@pytest.fixture(scope="session")
def stanza(pg_archiving, session_ansible_playbook):
    """The stanza configured by the role (check mode first, then for real). Yields (runner, source, check-run)."""
    base = Path(pg_archiving["home"]) / "pgbackrest"
    play = role_play(pg_archiving, base)
    checked = session_ansible_playbook(play, "--check", "--diff")
    applied = session_ansible_playbook(play)
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-2000:]
    config = read_config(str(base / "pgbackrest.conf"), STANZA)
    runner = PgBackRest(config, os_user=pg_archiving["os_user"] or None, password=pg_archiving["superpassword"])
    source = ConnParams(host="127.0.0.1", port=pg_archiving["port"], user=pg_archiving["superuser"],
                        password=pg_archiving["superpassword"], dbname="postgres")
    yield {"runner": runner, "source": source, "check_run": checked, "play": play, "base": base,
           "pg": pg_archiving}


