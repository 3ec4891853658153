# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of the PostgreSQL modules (pg_backup, pg_restore, pg_restore_verify).
    DOCUMENTATION = r"""
options:
  host:
    description:
      - Server host name or address. Unset values fall back to libpq's environment (C(PGHOST)...).
    type: str
    aliases: [login_host]
  port:
    description: Server port.
    type: int
    aliases: [login_port]
  unix_socket:
    description: Directory of the server's Unix socket; used instead of O(host) when set.
    type: path
    aliases: [login_unix_socket]
  user:
    description: Role to connect as.
    type: str
    aliases: [login_user]
  password:
    description: Password of O(user); passed to the client programs in their environment, never on a command line.
    type: str
    aliases: [login_password]
  sslmode:
    description: libpq SSL mode.
    type: str
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  dbname:
    description: Database to connect to.
    type: str
    aliases: [db, login_db]
  connect_timeout:
    description: Seconds to wait for a connection.
    type: int
    default: 10
  bindir:
    description:
      - Directory holding C(pg_dump), C(pg_restore) and C(psql). Default is C(/usr/lib/postgresql/<server major>/bin),
        then the newest installed version, then C(PATH). A client older than the server is refused.
    type: path
requirements:
  - psycopg >= 3 (Python library)
  - PostgreSQL client programs of the server's major version or newer
"""
