# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The database down-path option group (argument spec: module_utils/pg/args.py down_path_argument_spec).
    # Its connection suboptions repeat the postgres fragment (a unit test keeps them equal): a doc fragment
    # cannot be nested under a suboption.
    DOCUMENTATION = r"""
options:
  database:
    description:
      - Rehearse the database down-path too. The backup (O(database.backup), or the newest backup recorded as verified
        by M(deploysafe.preflight.backup_verify) C(record=true) at O(database.backup_location)) is restored into a
        scratch database C(preflight_downpath_<hex>) on the server given by the connection suboptions; its schema
        (tables, columns with types, nullability and defaults, constraints with definitions including foreign keys,
        indexes, views, sequences, enums, read from C(pg_catalog)) and every table's row count and content hash are
        captured; O(database.up_migration) is applied if given, then O(database.down_migration).
      - Proven afterwards, each a verdict measurement prefixed C(database_) - the schema equals the schema before the
        up migration (or O(database.expected_schema)); every table the up migration did not change (every table
        without one) has the same row count and content hash; every foreign key and check constraint holds for every
        row; each step ran without error (a failing step names the constraint PostgreSQL named). C(restore), C(up) and
        C(down) are timed in seconds; C(database_down_seconds) is held to O(max_rollback_seconds).
      - The scratch database is always dropped, on failure and interruption too, unless O(database.keep_scratch).
      - No verified backup at the location makes the verdict C(pending). In M(deploysafe.preflight.rollback_rehearsal),
        unset or empty skips the down-path and the summary says so.
      - The connecting role needs C(CREATEDB) (and ownership rights over the restored objects, or
        O(database.no_owner)).
    type: dict
    suboptions:
      host:
        description: Server host name or address; unset values fall back to libpq's environment (C(PGHOST)...).
        type: str
        aliases: [login_host]
      port:
        description: Server port (libpq default C(5432)).
        type: int
        aliases: [login_port]
      unix_socket:
        description: Directory of the server's Unix socket; used instead of O(database.host) when set.
        type: path
        aliases: [login_unix_socket]
      user:
        description: Role to connect as (libpq default C(PGUSER), else the operating system user).
        type: str
        aliases: [login_user]
      password:
        description: Password of O(database.user); given to migration commands in C(PGPASSWORD), never on a command line.
        type: str
        aliases: [login_password]
      dbname:
        description: Maintenance database to connect to for creating and dropping the scratch database.
        type: str
        aliases: [db, login_db]
      sslmode:
        description: libpq SSL mode.
        type: str
        choices: [disable, allow, prefer, require, verify-ca, verify-full]
        aliases: [ssl_mode]
      ca_cert:
        description: CA certificate(s) file the server certificate must chain to (libpq C(sslrootcert)).
        type: path
        aliases: [ssl_rootcert]
      client_cert:
        description: Client certificate file (libpq C(sslcert)).
        type: path
        aliases: [ssl_cert]
      client_key:
        description: Private key file of O(database.client_cert) (libpq C(sslkey)).
        type: path
        aliases: [ssl_key]
      connect_timeout:
        description: Seconds to wait for a connection.
        type: int
        default: 10
      bindir:
        description: Directory holding C(pg_restore) and C(psql); default the server's major version's, then C(PATH).
        type: path
      backup:
        description: The artifact written by M(deploysafe.preflight.pg_backup) to restore (its manifest beside it).
        type: path
      backup_location:
        description:
          - A directory or C(s3://bucket/prefix/) (connection in O(s3)) where the newest backup with a passing
            verification record is chosen, as M(deploysafe.preflight.backup_retention) reads it.
        type: str
      identity_file:
        description: age identity file (or SSH private key) for an encrypted backup.
        type: path
      jobs:
        description: Parallel C(pg_restore) jobs, and connections used to hash tables.
        type: int
        default: 2
      work_dir:
        description: Directory for temporary files (a downloaded S3 backup, an unpacked dump); default the system's.
        type: path
      no_owner:
        description: Do not restore object ownership (C(--no-owner)).
        type: bool
        default: false
      no_privileges:
        description: Do not restore grants (C(--no-privileges)).
        type: bool
        default: false
      up_migration:
        description:
          - The migration from version N to N+1, applied before the down migration. Tables whose definition it changes
            are excluded from the row count and hash comparison (reported in C(touched_tables_changed)).
        type: dict
        suboptions:
          sql_file:
            description:
              - SQL file run in one transaction through psycopg (all statements commit, or none); psql meta-commands
                such as C(\copy) are not SQL (use O(database.up_migration.command) with C(psql -f)).
            type: path
          command:
            description:
              - Program and arguments (no shell) run with the scratch database in C(PGHOST), C(PGPORT), C(PGUSER),
                C(PGPASSWORD), C(PGDATABASE) (and the TLS variables); it runs in whatever transactions the tool uses.
            type: list
            elements: str
          env:
            description: Extra environment variables for O(database.up_migration.command). Do not put secrets here.
            type: dict
            default: {}
      down_migration:
        description: The migration from N+1 back to N; the same form as O(database.up_migration).
        type: dict
        required: true
        suboptions:
          sql_file:
            description: SQL file run in one transaction through psycopg (all statements commit, or none).
            type: path
          command:
            description: Program and arguments run with the scratch database in the C(PG*) environment variables.
            type: list
            elements: str
          env:
            description: Extra environment variables for O(database.down_migration.command). Do not put secrets here.
            type: dict
            default: {}
      expected_schema:
        description:
          - Version N's schema as a JSON file in the format returned as C(schema_before) (write it from a result with
            C(to_nice_json)); default the schema restored from the backup before any migration.
        type: path
      migration_timeout:
        description: Seconds each migration step may run (a statement timeout for a SQL file).
        type: float
        default: 600
      keep_scratch:
        description: Keep the scratch database for debugging (its name is returned).
        type: bool
        default: false
"""
