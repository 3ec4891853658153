"""PostgreSQL: a fresh cluster from Debian's server binaries, password auth, seeded sample schema."""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from deploysafe_testenv.env import Service, ServiceInfo
from deploysafe_testenv.process import ServiceError, free_port, spawn, wait_until

SEED_SQL = Path(__file__).with_name("seed.sql")
APP_USER = "app"
APP_DB = "app"


def pg_bindir() -> Path:
    """The newest installed server's bin directory (Debian layout, or PG_BINDIR)."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if not found:
        which = shutil.which("postgres")
        if not which:
            raise ServiceError("no PostgreSQL server binaries: run scripts/install-system-deps (package postgresql)")
        return Path(which).resolve().parent
    return Path(found[-1]).parent


class PostgresService(Service):
    name = "postgres"
    # Server settings on top of the defaults below (the archiving variant adds WAL archiving).
    extra_settings: dict = {}

    def start(self) -> ServiceInfo:
        import psycopg

        bindir = pg_bindir()
        # initdb refuses to run as root (CI is root): run the cluster as an unprivileged user.
        user = "nobody" if os.geteuid() == 0 else None
        # That user must reach the cluster directory; the run dir may sit under a 0700 parent (pytest's
        # tmp_path), so then the cluster gets its own directory in the system temp dir.
        home = Path(tempfile.mkdtemp(prefix="deploysafe-pg-")) if user else self.dir
        data, sock = home / "data", home / "sock"
        sock.mkdir(exist_ok=True)
        super_pw, app_pw = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
        pwfile = home / "pwfile"
        pwfile.write_text(super_pw + "\n")
        if user:
            ent = pwd.getpwnam(user)
            for p in (home, sock, pwfile):
                os.chown(p, ent.pw_uid, ent.pw_gid)
        log = self.dir / "postgres.log"
        init = subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={pwfile}",
             "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            user=user, capture_output=True, text=True)
        pwfile.unlink()
        if init.returncode != 0:
            raise ServiceError(f"initdb failed ({init.returncode}): {init.stderr.strip()[-2000:]}")
        port = free_port()
        settings = {"listen_addresses": "127.0.0.1", "port": str(port), "unix_socket_directories": str(sock),
                    "fsync": "off", "full_page_writes": "off", "max_connections": "100",
                    "shared_preload_libraries": "pg_stat_statements", "log_min_messages": "warning",
                    **self.extra_settings}
        argv = [str(bindir / "postgres"), "-D", str(data)] + [f"-c{k}={v}" for k, v in settings.items()]
        proc = spawn(argv, log, user=user, attached=self.env.attached)
        dsn = dict(host="127.0.0.1", port=port, user="postgres", password=super_pw, dbname="postgres",
                   connect_timeout=2)
        wait_until("PostgreSQL", lambda: psycopg.connect(**dsn).close() is None, timeout=30, proc=proc,
                   log_path=log)
        with psycopg.connect(**dsn, autocommit=True) as conn:
            # app_pw is token_urlsafe: no quote can appear in it.
            conn.execute(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{app_pw}'")
            conn.execute(f"CREATE DATABASE {APP_DB} OWNER {APP_USER}")
        with psycopg.connect(**{**dsn, "dbname": APP_DB}, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute(f"SET ROLE {APP_USER}")
            conn.execute(SEED_SQL.read_text())
        return ServiceInfo(
            name=self.name, pids=[proc.pid], ports=[port], paths=[str(home)] if user else [],
            exports={"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGUSER": APP_USER, "PGPASSWORD": app_pw,
                     "PGDATABASE": APP_DB, "DEPLOYSAFE_PG_SUPERUSER": "postgres",
                     "DEPLOYSAFE_PG_SUPERPASSWORD": super_pw, "DEPLOYSAFE_PG_SOCKET_DIR": str(sock),
                     "DEPLOYSAFE_PG_BINDIR": str(bindir)},
            data={"host": "127.0.0.1", "port": port, "user": APP_USER, "password": app_pw, "dbname": APP_DB,
                  "superuser": "postgres", "superpassword": super_pw, "socket_dir": str(sock),
                  "bindir": str(bindir), "log": str(log), "data_dir": str(data), "os_user": user or "",
                  "home": str(home)},
        )


class ArchivingPostgresService(PostgresService):
    """The same cluster with WAL archiving on (wal_level replica, archive_mode on), for pgBackRest.

    archive_command is deliberately NOT set on the command line: a setting given there beats ALTER SYSTEM,
    and the pgbackrest role sets it with ALTER SYSTEM as it would on a real server. Until then WAL
    segments wait in pg_wal (archive_mode on with an empty command archives nothing and loses nothing).
    Full page writes stay on: a physical backup replays WAL over pages copied while they changed.
    """

    name = "postgres_archiving"
    extra_settings = {"wal_level": "replica", "archive_mode": "on", "full_page_writes": "on",
                      "max_wal_senders": "2"}

    def start(self) -> ServiceInfo:
        info = super().start()
        # Started next to the default PostgreSQL: its exports must not replace PGHOST & co.
        info.exports = {"DEPLOYSAFE_PGARCHIVE_" + key.replace("DEPLOYSAFE_", "").replace("PG_", ""): value
                        for key, value in info.exports.items()}
        info.exports["DEPLOYSAFE_PGARCHIVE_DATA_DIR"] = str(info.data["data_dir"])
        return info
