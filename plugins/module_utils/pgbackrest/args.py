# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every pgBackRest module shares (doc fragment deploysafe.preflight.pgbackrest), and the objects
built from them: the runner and the SQL connection to the source server."""

from __future__ import annotations

from typing import Any, Dict, Tuple

from ..pg.args import postgres_argument_spec
from ..pg.connection import ConnParams
from ..pg.tools import installed_bindirs
from . import PgBackRestError
from .command import PgBackRest, default_os_user
from .config import read_config


def pgbackrest_argument_spec() -> Dict[str, Any]:
    spec = postgres_argument_spec(client_programs=True)
    spec.update(
        config=dict(type="path", default="/etc/pgbackrest/pgbackrest.conf"),
        stanza=dict(type="str", required=True),
        os_user=dict(type="str"),
        pgbackrest_binary=dict(type="str", default="pgbackrest"),
    )
    return spec


def from_params(p: Dict[str, Any]) -> Tuple[PgBackRest, ConnParams]:
    """(runner, source connection). The connection defaults to what the stanza's configuration says
    (pg1-socket-path, pg1-port, pg1-user), database postgres; the password also reaches pgbackrest (in
    PGPASSWORD) for the commands that connect (check, backup, stanza-create)."""
    config = read_config(p["config"], p["stanza"])
    runner = PgBackRest(config, binary=p["pgbackrest_binary"], os_user=p["os_user"] or default_os_user(config.pg_path),
                        password=p["password"])
    source = ConnParams(host=p["host"] or None, port=p["port"] or config.pg_port,
                        unix_socket=p["unix_socket"] or (None if p["host"] else config.pg_socket_path),
                        user=p["user"] or config.pg_user or "postgres", password=p["password"],
                        sslmode=p["sslmode"], dbname=p["dbname"] or "postgres",
                        connect_timeout=p["connect_timeout"] or 10, ca_cert=p["ca_cert"],
                        client_cert=p["client_cert"], client_key=p["client_key"])
    return runner, source


def server_bindir(bindir: str, runner: PgBackRest) -> str:
    """Where pg_ctl and pg_amcheck live: bindir, else the install of the stanza's major version (pgbackrest
    info's db version) that pg/tools.py finds in the Debian or PGDG RPM layout, else the Debian path."""
    if bindir:
        return bindir
    versions = [str(d.get("version")) for d in runner.info().get("db") or [] if d.get("version")]
    if not versions:
        raise PgBackRestError(f"stanza {runner.config.stanza} records no PostgreSQL version yet: set bindir")
    # the cluster's own major only: a newer pg_ctl cannot start an older data directory
    found = installed_bindirs().get(int(versions[-1])) if versions[-1].isdigit() else None
    return found[0] if found else f"/usr/lib/postgresql/{versions[-1]}/bin"
