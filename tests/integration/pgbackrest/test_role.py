"""The pgbackrest role on the archiving cluster: check mode first changes nothing, then it configures, and
a second run changes nothing."""

from __future__ import annotations

import re

from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.command import stanza_missing
from ansible_collections.deploysafe.preflight.plugins.module_utils.pgbackrest.config import archive_command

from pgbackrest_helpers import sql


def _changed(out: str) -> int:
    return int(re.search(r"changed=(\d+)", out).group(1))


def test_check_mode_showed_the_changes_and_wrote_nothing(stanza):
    checked = stanza["check_run"]
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert _changed(checked.stdout) >= 2  # directories + configuration file + stanza (would)
    assert "pg1-path=" in checked.stdout  # --diff shows the file that would be written
    assert stanza["pg"]["superpassword"] not in checked.stdout + checked.stderr


def test_role_configured_archiving_and_the_stanza(stanza):
    runner, source = stanza["runner"], stanza["source"]
    assert not stanza_missing(runner.info())
    command = sql(source, "SELECT setting FROM pg_settings WHERE name = 'archive_command'")[0][0]
    assert command == archive_command(runner.config.path, "main")
    text = open(runner.config.path).read()
    assert "repo1-retention-full=2" in text and "process-max=2" in text and "compress-type=zst" in text


def test_second_run_changes_nothing(stanza, ansible_playbook):
    again = ansible_playbook(stanza["play"])
    assert again.returncode == 0, again.stdout[-3000:]
    assert _changed(again.stdout) == 0, again.stdout[-3000:]


def test_harness_archiving_option_leaves_the_default_postgres_alone(testenv, pg, pg_archiving):
    from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams

    def setting(data, name):
        params = ConnParams(host="127.0.0.1", port=data["port"], user=data["superuser"],
                            password=data["superpassword"], dbname="postgres")
        return sql(params, f"SELECT current_setting('{name}')")[0][0]

    assert (setting(pg_archiving, "archive_mode"), setting(pg_archiving, "wal_level")) == ("on", "replica")
    assert setting(pg, "archive_mode") == "off"
    assert testenv.exports()["PGPORT"] == str(pg["port"])  # the archiving cluster exports under its own names
    assert testenv.exports()["DEPLOYSAFE_PGARCHIVE_PGPORT"] == str(pg_archiving["port"])
