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


def restore_argument_spec() -> Dict[str, Any]:
    """Options of every module that restores an artifact (pg_restore, pg_restore_verify, the down-path)."""
    return dict(
        identity_file=dict(type="path"),
        jobs=dict(type="int", default=2),
        work_dir=dict(type="path"),
        no_owner=dict(type="bool", default=False),
        no_privileges=dict(type="bool", default=False),
    )


def migration_step_spec(required: bool = False) -> Dict[str, Any]:
    """One migration step: a SQL file, or a command with extra environment variables."""
    return dict(type="dict", required=required,
                options=dict(sql_file=dict(type="path"), command=dict(type="list", elements="str"),
                             env=dict(type="dict", default={})),
                mutually_exclusive=[("sql_file", "command")], required_one_of=[("sql_file", "command")])


def down_path_argument_spec() -> Dict[str, Any]:
    """The `database` option group of the rollback rehearsal (doc fragment deploysafe.preflight.pg_down_path)."""
    options = postgres_argument_spec()
    options.update(restore_argument_spec())
    options.update(
        backup=dict(type="path"),
        backup_location=dict(type="str"),
        up_migration=migration_step_spec(),
        down_migration=migration_step_spec(required=True),
        expected_schema=dict(type="path"),
        migration_timeout=dict(type="float", default=600),
        keep_scratch=dict(type="bool", default=False),
    )
    return dict(type="dict", options=options, mutually_exclusive=[("backup", "backup_location")],
                required_one_of=[("backup", "backup_location")])
