"""Fixtures for the PostgreSQL backup tests: connection params, age keys, scratch databases, tmpfs mounts."""

from __future__ import annotations

import os
import secrets
import subprocess

import psycopg
import pyrage
import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams


@pytest.fixture(scope="session")
def app_db(pg):
    """The seeded `app` database as its owner `app`."""
    return ConnParams(host=pg["host"], port=pg["port"], user=pg["user"], password=pg["password"], dbname=pg["dbname"])


@pytest.fixture(scope="session")
def superuser(pg):
    """The server as superuser, connected to the maintenance database."""
    return ConnParams(host=pg["host"], port=pg["port"], user=pg["superuser"], password=pg["superpassword"],
                      dbname="postgres")


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    base = tmp_path_factory.mktemp("keys")
    ident, other = pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()
    (base / "id.txt").write_text(f"{ident}\n")
    (base / "other.txt").write_text(f"{other}\n")
    os.chmod(base / "id.txt", 0o600)
    return {"recipient": str(ident.to_public()), "identity": str(base / "id.txt"), "other": str(base / "other.txt")}


def sql(params: ConnParams, *statements, dbname=None):
    kwargs = params.kwargs()
    if dbname:
        kwargs["dbname"] = dbname
    out = []
    with psycopg.connect(**kwargs, autocommit=True) as conn:
        for statement in statements:
            cur = conn.execute(statement)
            out.append(cur.fetchall() if cur.description else None)
    return out


@pytest.fixture
def new_db(superuser, pg):
    """Factory: a fresh database owned by `app`, dropped after the test."""
    made = []

    def make(setup_sql=""):
        name = "t_" + secrets.token_hex(4)
        sql(superuser, f"CREATE DATABASE {name} OWNER {pg['user']}")
        made.append(name)
        params = ConnParams(host=pg["host"], port=pg["port"], user=pg["user"], password=pg["password"], dbname=name)
        if setup_sql:
            sql(params, setup_sql)
        return params

    yield make
    for name in made:
        sql(superuser, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def scratch_dbs(superuser):
    rows = sql(superuser, "SELECT datname FROM pg_database WHERE datname LIKE 'preflight_verify_%'")[0]
    return {r[0] for r in rows}


@pytest.fixture
def tmpfs(tmp_path):
    """Factory: mount a tmpfs (size, ro) at a fresh directory; skipped where mounting is not allowed."""
    mounts = []

    def mount(size="64k", readonly=False):
        target = tmp_path / f"mnt{len(mounts)}"
        target.mkdir()
        opts = f"size={size}" + (",ro" if readonly else "")
        run = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(target)], capture_output=True, text=True)
        if run.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {run.stderr.strip()}")
        mounts.append(target)
        return target

    yield mount
    for target in mounts:
        subprocess.run(["umount", str(target)], check=False)


@pytest.fixture
def run_sql():
    """sql(params, *statements, dbname=None): run statements, returning rows of SELECTs."""
    return sql


@pytest.fixture
def list_scratch_dbs(superuser):
    return lambda: scratch_dbs(superuser)


def own_children(name):
    """PIDs of this process's live (not zombie) children called `name`, read from /proc."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as handle:
                comm = handle.read().strip()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and comm == name and fields[0] != "Z":
            found.append(int(entry))
    return found


@pytest.fixture
def children():
    """children(name): PIDs of the test process's live children called name."""
    return own_children
