# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scratch databases for drills and rehearsals: created with a marker comment, and only a database that
carries the marker is ever dropped, so a typo in a name cannot drop real data (as s3/scratch.py does for
buckets with a tag)."""

from __future__ import annotations

import re
from typing import Any, Dict, Optional

from . import PgError
from .connection import ConnParams, connect, quote_ident, server_version
from .restore import create_database, drop_database

MARKER = "deploysafe-scratch"
# A plain, unquoted-safe name: what a drill derives from its run id.
_NAME_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _check_name(name: str) -> None:
    if not _NAME_RE.fullmatch(name):
        raise PgError(f"scratch database name {name!r} must be 1-63 lower-case letters, digits or _ "
                      "(not starting with a digit)")


def _comment(admin, name: str) -> Optional[str]:
    """The database's comment ('' when it has none), None when it does not exist."""
    row = admin.execute("SELECT coalesce(pg_catalog.shobj_description(oid, 'pg_database'), '') "
                        "FROM pg_catalog.pg_database WHERE datname = %s", (name,)).fetchone()
    return None if row is None else row[0]


def _admin(params: ConnParams):
    """A connection to the maintenance database (params.dbname, default postgres)."""
    return connect(params.with_db(params.dbname or "postgres"), autocommit=True, pin=False)


def ensure_scratch_database(params: ConnParams, name: str, check: bool = False) -> Dict[str, Any]:
    """Create `name` (empty, from template0) with the scratch marker; an existing database must carry it."""
    _check_name(name)
    admin = _admin(params)
    try:
        comment = _comment(admin, name)
        if comment is not None:
            if comment != MARKER:
                raise PgError(f"database {name!r} on {params.where()} exists and is not a scratch database "
                              f"(its comment is not {MARKER!r}): refusing to use it")
            return {"changed": False, "name": name}
        if not check:
            try:
                create_database(admin, name)
                admin.execute(f"COMMENT ON DATABASE {quote_ident(name)} IS '{MARKER}'")
            except Exception as exc:
                raise PgError(f"cannot create scratch database {name} on {params.where()} as "
                              f"{params.user or 'default user'}: {' '.join(str(exc).split())}") from None
    finally:
        admin.close()
    return {"changed": True, "name": name}


def remove_scratch_database(params: ConnParams, name: str, check: bool = False) -> Dict[str, Any]:
    """Drop `name` (closing its sessions) when it carries the scratch marker; refuse any other database."""
    _check_name(name)
    admin = _admin(params)
    try:
        comment = _comment(admin, name)
        if comment is None:
            return {"changed": False, "name": name}
        if comment != MARKER:
            raise PgError(f"database {name!r} on {params.where()} is not a scratch database (its comment is not "
                          f"{MARKER!r}): refusing to drop it")
        if not check:
            try:
                drop_database(admin, name, server_version(admin)["major"])
            except Exception as exc:
                raise PgError(f"cannot drop scratch database {name} on {params.where()}: "
                              f"{' '.join(str(exc).split())}") from None
    finally:
        admin.close()
    return {"changed": True, "name": name}
