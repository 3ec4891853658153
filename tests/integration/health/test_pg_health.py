"""pg_health against the real harness PostgreSQL, each problem planted for real."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.health.pg import PgHealthOptions, check_pg_health
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams


def superuser(pg):
    return {"host": pg["host"], "port": pg["port"], "user": pg["superuser"], "password": pg["superpassword"],
            "dbname": pg["dbname"]}


def app_user(pg):
    return {"host": pg["host"], "port": pg["port"], "user": pg["user"], "password": pg["password"],
            "dbname": pg["dbname"]}


def test_healthy_database_passes_and_lists_statements(pg):
    res = check_pg_health(ConnParams(**superuser(pg)), PgHealthOptions())
    assert res["verdict"]["status"] == "pass", res["verdict"]["summary"]
    assert res["pg_stat_statements"] is True and res["statements"]


def test_connection_exhaustion_fails_before_it_happens(pg):
    conns = [psycopg.connect(**app_user(pg)) for _ in range(82)]   # max_connections 100, 3 reserved
    try:
        res = check_pg_health(ConnParams(**superuser(pg)), PgHealthOptions(max_connections_pct=80))
    finally:
        for c in conns:
            c.close()
    assert res["verdict"]["status"] == "fail" and "usable connections in use" in res["verdict"]["summary"]
    assert check_pg_health(ConnParams(**superuser(pg)), PgHealthOptions(max_connections_pct=80))["verdict"]["status"] == "pass"


def test_long_transaction_fails_naming_the_pid(pg):
    with psycopg.connect(**app_user(pg)) as conn:
        conn.execute("SELECT 1")   # opens a transaction (autocommit off)
        pid = conn.info.backend_pid
        time.sleep(1.2)
        res = check_pg_health(ConnParams(**superuser(pg)), PgHealthOptions(long_transaction_seconds=1))
        conn.rollback()
    assert res["verdict"]["status"] == "fail" and f"pid {pid}" in res["verdict"]["summary"]


def test_blocked_lock_fails(pg):
    holder = psycopg.connect(**app_user(pg))
    holder.execute("LOCK TABLE workspaces IN ACCESS EXCLUSIVE MODE")
    holder_pid = holder.info.backend_pid
    waiter = psycopg.connect(**app_user(pg), autocommit=True)
    thread = threading.Thread(target=lambda: waiter.execute("SELECT count(*) FROM workspaces"), daemon=True)
    thread.start()
    try:
        time.sleep(1.0)
        res = check_pg_health(ConnParams(**superuser(pg)), PgHealthOptions(blocked_seconds=0.5))
    finally:
        holder.rollback()
        thread.join(10)
        holder.close()
        waiter.close()
    assert res["verdict"]["status"] == "fail" and "blocked on locks" in res["verdict"]["summary"]
    assert res["blocked"][0]["blocked_by"] == [holder_pid]


def test_slow_statement_fails(pg):
    with psycopg.connect(**superuser(pg), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")   # earlier tests' blocked statements were slow too
    with psycopg.connect(**app_user(pg), autocommit=True) as conn:
        conn.execute("SELECT pg_sleep(0.3)")
    res = check_pg_health(ConnParams(**superuser(pg)), PgHealthOptions(slow_statement_mean_ms=200))
    assert res["verdict"]["status"] == "fail" and "pg_sleep" in res["verdict"]["summary"]


def test_wrong_password_is_a_clear_error(pg):
    with pytest.raises(PgError, match="cannot connect to PostgreSQL at 127.0.0.1.*password authentication failed"):
        check_pg_health(ConnParams(**dict(app_user(pg), password="wrong")), PgHealthOptions())
