# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec of the PostgreSQL connection options: one vocabulary for every PostgreSQL module.

Names are libpq's (host, port, user, password, dbname, sslmode...); aliases are the names users of
community.postgresql know (login_host, login_user, login_password, login_db/db, login_unix_socket,
ssl_mode, ssl_rootcert...). Documented by the doc fragment deploysafe.preflight.postgres (connection)
and deploysafe.preflight.postgres.client_programs (bindir).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

SSLMODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


def postgres_argument_spec(client_programs: bool = True) -> Dict[str, Any]:
    """Connection options; with client_programs, also bindir (where pg_dump/pg_restore/psql live)."""
    spec = dict(
        host=dict(type="str", aliases=["login_host"]),
        port=dict(type="int", aliases=["login_port"]),
        unix_socket=dict(type="path", aliases=["login_unix_socket"]),
        user=dict(type="str", aliases=["login_user"]),
        password=dict(type="str", no_log=True, aliases=["login_password"]),
        dbname=dict(type="str", aliases=["db", "login_db"]),
        sslmode=dict(type="str", choices=SSLMODES, aliases=["ssl_mode"]),
        ca_cert=dict(type="path", aliases=["ssl_rootcert"]),
        client_cert=dict(type="path", aliases=["ssl_cert"]),
        client_key=dict(type="path", aliases=["ssl_key"], no_log=False),
        connect_timeout=dict(type="int", default=10),
    )
    if client_programs:
        spec["bindir"] = dict(type="path")
    return spec


def fail_on_from_legacy(fail_on: str, fail_on_mismatch: Optional[bool]) -> str:
    """The effective gate option when the deprecated boolean fail_on_mismatch is still given:
    true meant fail the task on a fail verdict (fail_on=fail), false never (fail_on=never)."""
    if fail_on_mismatch is None:
        return fail_on
    return "fail" if fail_on_mismatch else "never"
