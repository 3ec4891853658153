# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of every PostgreSQL module (argument spec: module_utils/pg/args.py). Names are
    # libpq's; aliases are the names community.postgresql uses.
    DOCUMENTATION = r"""
options:
  host:
    description:
      - Server host name or address. Unset values fall back to libpq's environment (C(PGHOST)...) and defaults.
    type: str
    aliases: [login_host]
  port:
    description: Server port (libpq default C(5432)).
    type: int
    aliases: [login_port]
  unix_socket:
    description: Directory of the server's Unix socket; used instead of O(host) when set.
    type: path
    aliases: [login_unix_socket]
  user:
    description: Role to connect as (libpq default C(PGUSER), else the operating system user).
    type: str
    aliases: [login_user]
  password:
    description: Password of O(user). Never put on a command line (client programs get it in their environment).
    type: str
    aliases: [login_password]
  dbname:
    description: Database to connect to (libpq default C(PGDATABASE), else the user name).
    type: str
    aliases: [db, login_db]
  sslmode:
    description:
      - libpq SSL mode. C(verify-full) checks the server certificate against O(ca_cert) and its name against O(host).
    type: str
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
    aliases: [ssl_mode]
  ca_cert:
    description:
      - CA certificate(s) file the server certificate must chain to, for O(sslmode=verify-ca) or C(verify-full)
        (libpq C(sslrootcert)).
    type: path
    aliases: [ssl_rootcert]
  client_cert:
    description: Client certificate file presented to the server (libpq C(sslcert)), for certificate authentication.
    type: path
    aliases: [ssl_cert]
  client_key:
    description: Private key file of O(client_cert) (libpq C(sslkey)); must not be readable by group or others.
    type: path
    aliases: [ssl_key]
  connect_timeout:
    description: Seconds to wait for a connection.
    type: int
    default: 10
requirements:
  - psycopg >= 3 (Python library)
"""

    # For the modules that run pg_dump, pg_restore or psql.
    CLIENT_PROGRAMS = r"""
options:
  bindir:
    description:
      - Directory holding C(pg_dump), C(pg_restore) and C(psql). Default is C(/usr/lib/postgresql/<server major>/bin),
        then the newest installed version, then C(PATH). A client older than the server is refused.
    type: path
requirements:
  - PostgreSQL client programs of the server's major version or newer
"""
