# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection settings shared by psycopg (SQL) and the pg_dump/pg_restore subprocesses."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Dict, Optional, Tuple

from . import PgError

try:
    import psycopg
except ImportError:
    psycopg = None

# Row text must be identical at backup and at restore time, whatever the server or role defaults.
PINNED_SETTINGS = {
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "TimeZone": "UTC",
    "extra_float_digits": "3",
    "bytea_output": "hex",
    "lc_monetary": "C",
    "search_path": "pg_catalog",
}


@dataclass(frozen=True)
class ConnParams:
    host: Optional[str] = None
    port: Optional[int] = None
    unix_socket: Optional[str] = None
    user: Optional[str] = None
    password: Optional[str] = None
    sslmode: Optional[str] = None
    dbname: Optional[str] = None
    connect_timeout: int = 10
    ca_cert: Optional[str] = None       # libpq sslrootcert
    client_cert: Optional[str] = None   # libpq sslcert
    client_key: Optional[str] = None    # libpq sslkey

    @classmethod
    def from_params(cls, params: Dict[str, Any], dbname_key: str = "dbname") -> "ConnParams":
        """From the module options of the shared argument spec (module_utils/pg/args.py)."""
        return cls(host=params.get("host"), port=params.get("port"), unix_socket=params.get("unix_socket"),
                   user=params.get("user"), password=params.get("password"), sslmode=params.get("sslmode"),
                   dbname=params.get(dbname_key), connect_timeout=params.get("connect_timeout") or 10,
                   ca_cert=params.get("ca_cert"), client_cert=params.get("client_cert"),
                   client_key=params.get("client_key"))

    def with_db(self, dbname: str) -> "ConnParams":
        return replace(self, dbname=dbname)

    @property
    def effective_host(self) -> Optional[str]:
        return self.unix_socket or self.host

    def where(self) -> str:
        host = self.effective_host or os.environ.get("PGHOST") or "default socket"
        port = self.port or os.environ.get("PGPORT") or 5432
        return f"{host}:{port}" if not str(host).startswith("/") else f"socket {host} port {port}"

    def _libpq(self) -> Tuple[Tuple[str, str, Any], ...]:
        """(libpq keyword, environment variable, value) of every setting this object may carry."""
        return (("host", "PGHOST", self.effective_host), ("port", "PGPORT", self.port),
                ("user", "PGUSER", self.user), ("password", "PGPASSWORD", self.password),
                ("sslmode", "PGSSLMODE", self.sslmode), ("dbname", "PGDATABASE", self.dbname),
                ("sslrootcert", "PGSSLROOTCERT", self.ca_cert), ("sslcert", "PGSSLCERT", self.client_cert),
                ("sslkey", "PGSSLKEY", self.client_key))

    def kwargs(self) -> Dict[str, Any]:
        """psycopg/libpq keyword arguments; unset values fall back to libpq's PG* environment."""
        out: Dict[str, Any] = {"connect_timeout": self.connect_timeout, "application_name": "deploysafe.preflight"}
        for key, _var, value in self._libpq():
            if value not in (None, ""):
                out[key] = value
        return out

    def env(self) -> Dict[str, str]:
        """Environment for libpq client programs (pg_dump, pg_restore, psql): the password and the TLS
        files travel here, never in argv."""
        env = dict(os.environ)
        for _key, var, value in self._libpq():
            if value not in (None, ""):
                env[var] = str(value)
        env["PGCONNECT_TIMEOUT"] = str(self.connect_timeout)
        env["PGAPPNAME"] = "deploysafe.preflight"
        return env


def require_psycopg() -> Any:
    if psycopg is None:
        raise PgError("the Python library psycopg (version 3) is required: pip install 'psycopg[binary]'")
    return psycopg


def explain_connect_error(params: ConnParams, exc: Exception) -> str:
    """One line that says where the connection went and why it failed."""
    text = " ".join(str(exc).split())
    low = text.lower()
    if "password authentication failed" in low or "no password supplied" in low:
        reason = f"password authentication failed for user {params.user or os.environ.get('PGUSER', '?')!r}"
    elif "does not exist" in low and "database" in low:
        reason = f"database {params.dbname!r} does not exist"
    elif "connection refused" in low or "timeout expired" in low or "could not translate host" in low \
            or "no such file or directory" in low or "no route to host" in low:
        reason = f"server unreachable ({text.rsplit('failed:', 1)[-1].strip()})"
    elif "root certificate file" in low or "certificate verify failed" in low or "does not match host name" in low:
        reason = (f"TLS verification failed ({text.rsplit('failed:', 1)[-1].strip()}); "
                  f"set ca_cert to the CA that signed the server certificate and host to a name it carries")
    else:
        reason = text.rsplit("failed:", 1)[-1].strip() or text
    return f"cannot connect to PostgreSQL at {params.where()} (database {params.dbname or 'default'}): {reason}"


def connect(params: ConnParams, *, autocommit: bool = False, pin: bool = True):
    """Open a psycopg connection; PgError with a readable reason on failure. Pins row-text settings."""
    lib = require_psycopg()
    try:
        conn = lib.connect(**params.kwargs(), autocommit=autocommit)
    except lib.Error as exc:
        raise PgError(explain_connect_error(params, exc)) from None
    if pin:
        with conn.cursor() as cur:
            for name, value in PINNED_SETTINGS.items():
                cur.execute("SELECT pg_catalog.set_config(%s, %s, false)", (name, value))
        if not autocommit:
            conn.commit()
    return conn


def server_version(conn) -> Dict[str, Any]:
    """{'num': 150010, 'major': 15, 'text': '15.10 (Debian ...)'}."""
    num = int(conn.execute("SELECT current_setting('server_version_num')").fetchone()[0])
    text = conn.execute("SELECT version()").fetchone()[0]
    return {"num": num, "major": num // 10000, "text": text}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
