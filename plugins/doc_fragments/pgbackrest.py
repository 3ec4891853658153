# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options of every pgBackRest module (argument spec: module_utils/pgbackrest/args.py). The PostgreSQL
    # connection options come from the deploysafe.preflight.postgres fragment; here they default to the
    # stanza's configuration.
    DOCUMENTATION = r"""
options:
  config:
    description:
      - The pgBackRest configuration file holding the stanza (as the M(deploysafe.preflight.pgbackrest) role writes it).
        The modules read C(pg1-path), C(pg1-port), C(pg1-socket-path) and C(pg1-user) from it.
    type: path
    default: /etc/pgbackrest/pgbackrest.conf
  stanza:
    description: The stanza (one PostgreSQL cluster in the repository).
    type: str
    required: true
  os_user:
    description:
      - Operating-system user every pgbackrest, C(pg_ctl) and C(pg_amcheck) command runs as. Default, when the module
        runs as root, the owner of C(pg1-path) (the server's user); otherwise the user the module runs as.
    type: str
  pgbackrest_binary:
    description: The pgbackrest program (name on C(PATH) or a path).
    type: str
    default: pgbackrest
  bindir:
    description:
      - Directory of the PostgreSQL server programs (C(pg_ctl), C(pg_amcheck)). Default
        C(/usr/lib/postgresql/<server major>/bin) (Debian and Ubuntu).
    type: path
notes:
  - The connection options (O(host), O(port), O(user)...) default to the stanza's configuration (the socket directory
    C(pg1-socket-path), C(pg1-port), C(pg1-user) else C(postgres)) and database C(postgres); the role must be a
    superuser. O(password) also reaches pgbackrest in C(PGPASSWORD), never on a command line.
requirements:
  - pgBackRest 2.45 or later (Debian and Ubuntu package C(pgbackrest))
"""
