"""PostgreSQL client discovery over real directory trees: the Debian layout
(/usr/lib/postgresql/<N>/bin), the PGDG RPM layout execution environments use (/usr/pgsql-<N>/bin)
and PATH. The tools are small executables that print a version, as pg_dump --version does."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.tools import find_tool


def fake_tool(bindir, major, tool="pg_dump"):
    os.makedirs(bindir, exist_ok=True)
    path = os.path.join(bindir, tool)
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\necho '{tool} (PostgreSQL) {major}.4'\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def roots(tmp_path, monkeypatch):
    """(debian_root, rpm_root) under tmp_path, with an empty PATH so the host's tools stay out."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-dir"))
    return str(tmp_path / "usr/lib/postgresql"), str(tmp_path / "usr")


def test_rpm_layout_matching_server_major_wins(tmp_path, roots):
    debian, rpm = roots
    fake_tool(f"{rpm}/pgsql-17/bin", 17)
    wanted = fake_tool(f"{rpm}/pgsql-15/bin", 15)
    fake_tool(f"{rpm}/pgsql-13/bin", 13)
    assert find_tool("pg_dump", 15, debian_root=debian, rpm_root=rpm) == wanted


def test_rpm_layout_highest_major_when_none_matches(tmp_path, roots):
    debian, rpm = roots
    fake_tool(f"{rpm}/pgsql-13/bin", 13)
    wanted = fake_tool(f"{rpm}/pgsql-16/bin", 16)
    os.makedirs(f"{rpm}/pgsql-extra/bin")  # not a version directory: ignored
    assert find_tool("pg_dump", 14, debian_root=debian, rpm_root=rpm) == wanted


def test_highest_across_debian_and_rpm_layouts(tmp_path, roots):
    debian, rpm = roots
    fake_tool(f"{debian}/15/bin", 15)
    wanted = fake_tool(f"{rpm}/pgsql-17/bin", 17)
    assert find_tool("pg_dump", 14, debian_root=debian, rpm_root=rpm) == wanted


def test_path_when_no_versioned_install(tmp_path, roots, monkeypatch):
    debian, rpm = roots
    wanted = fake_tool(str(tmp_path / "bin"), 16, tool="pg_restore")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_tool("pg_restore", 16, debian_root=debian, rpm_root=rpm) == wanted


def test_only_older_client_fails_naming_versions(tmp_path, roots):
    debian, rpm = roots
    fake_tool(f"{rpm}/pgsql-13/bin", 13)
    with pytest.raises(PgError, match=r"pgsql-13/bin/pg_dump is version 13 but the server is PostgreSQL 16"):
        find_tool("pg_dump", 16, debian_root=debian, rpm_root=rpm)


def test_nothing_found_lists_where_it_looked(tmp_path, roots):
    debian, rpm = roots
    os.makedirs(f"{rpm}/pgsql-16/bin")  # the directory without the tool
    with pytest.raises(PgError, match=r"psql not found \(looked in .*pgsql-16/bin/psql\)"):
        find_tool("psql", 16, debian_root=debian, rpm_root=rpm)


def test_bindir_overrides_discovery(tmp_path, roots):
    debian, rpm = roots
    fake_tool(f"{rpm}/pgsql-17/bin", 17)
    wanted = fake_tool(str(tmp_path / "opt/pg/bin"), 16)
    assert find_tool("pg_dump", 16, bindir=str(tmp_path / "opt/pg/bin"), debian_root=debian, rpm_root=rpm) == wanted
