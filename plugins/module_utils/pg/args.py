# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec of the connection options (doc fragment deploysafe.preflight.postgres)."""

from __future__ import annotations

from typing import Any, Dict


def postgres_argument_spec() -> Dict[str, Any]:
    return dict(
        host=dict(type="str", aliases=["login_host"]),
        port=dict(type="int", aliases=["login_port"]),
        unix_socket=dict(type="path", aliases=["login_unix_socket"]),
        user=dict(type="str", aliases=["login_user"]),
        password=dict(type="str", no_log=True, aliases=["login_password"]),
        sslmode=dict(type="str", choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
        dbname=dict(type="str", aliases=["db", "login_db"]),
        connect_timeout=dict(type="int", default=10),
        bindir=dict(type="path"),
    )
