"""One PostgreSQL option vocabulary: the argument spec, its doc fragment, the aliases users of
community.postgresql know, and the TLS options reaching libpq (psycopg keywords) and the client
programs' environment (pg_dump, pg_restore, psql)."""

from __future__ import annotations

import ast
import pathlib

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.deploysafe.preflight.plugins.doc_fragments.postgres import ModuleDocFragment
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import (
    fail_on_from_legacy, postgres_argument_spec)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams

MODULES = pathlib.Path(__file__).resolve().parents[5] / "plugins" / "modules"
PG_MODULES = ("pg_backup", "pg_restore", "pg_restore_verify", "pg_health")


def validated(params, client_programs=True):
    result = ArgumentSpecValidator(postgres_argument_spec(client_programs)).validate(params)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_community_postgresql_names_are_aliases():
    p = validated({"login_host": "db.internal", "login_port": 5433, "login_user": "backup",
                   "login_password": "pw", "login_db": "app", "ssl_mode": "verify-full",
                   "ssl_rootcert": "/ca.crt", "ssl_cert": "/c.crt", "ssl_key": "/c.key",
                   "login_unix_socket": "/run/postgresql"})
    assert (p["host"], p["port"], p["user"], p["dbname"], p["sslmode"]) == (
        "db.internal", 5433, "backup", "app", "verify-full")
    assert (p["ca_cert"], p["client_cert"], p["client_key"], p["unix_socket"]) == (
        "/ca.crt", "/c.crt", "/c.key", "/run/postgresql")
    assert validated({"db": "other"})["dbname"] == "other"


def test_password_is_no_log_and_bindir_only_for_client_programs():
    spec = postgres_argument_spec()
    assert spec["password"]["no_log"] is True
    assert "bindir" in spec and "bindir" not in postgres_argument_spec(client_programs=False)


def test_tls_options_reach_libpq_and_the_client_programs_environment():
    params = ConnParams.from_params(validated({
        "host": "db.internal", "user": "backup", "password": "pw", "dbname": "app", "sslmode": "verify-full",
        "ca_cert": "/etc/pki/ca.crt", "client_cert": "/etc/pki/c.crt", "client_key": "/etc/pki/c.key"}))
    kwargs = params.kwargs()
    assert (kwargs["sslmode"], kwargs["sslrootcert"], kwargs["sslcert"], kwargs["sslkey"]) == (
        "verify-full", "/etc/pki/ca.crt", "/etc/pki/c.crt", "/etc/pki/c.key")
    env = params.env()
    assert (env["PGSSLMODE"], env["PGSSLROOTCERT"], env["PGSSLCERT"], env["PGSSLKEY"]) == (
        "verify-full", "/etc/pki/ca.crt", "/etc/pki/c.crt", "/etc/pki/c.key")
    assert env["PGPASSWORD"] == "pw"
    assert "sslrootcert" not in ConnParams(host="x").kwargs()


def fragment_options():
    opts = {}
    for text in (ModuleDocFragment.DOCUMENTATION, ModuleDocFragment.CLIENT_PROGRAMS):
        opts.update(yaml.safe_load(text)["options"])
    return opts


def test_doc_fragment_matches_the_argument_spec():
    spec, docs = postgres_argument_spec(), fragment_options()
    assert set(spec) == set(docs)
    for name, entry in spec.items():
        assert entry["type"] == docs[name]["type"], name
        assert sorted(entry.get("aliases", [])) == sorted(docs[name].get("aliases", [])), name
        assert entry.get("choices") == docs[name].get("choices"), name
        assert entry.get("default") == docs[name].get("default"), name


@pytest.mark.parametrize("module", PG_MODULES)
def test_every_postgresql_module_uses_the_shared_spec_and_fragment(module):
    source = (MODULES / f"{module}.py").read_text()
    tree = ast.parse(source)
    doc = yaml.safe_load(next(n.value.value for n in tree.body if isinstance(n, ast.Assign)
                              and getattr(n.targets[0], "id", "") == "DOCUMENTATION"))
    assert "deploysafe.preflight.postgres" in doc["extends_documentation_fragment"]
    assert "postgres_argument_spec(" in source
    own = set(doc.get("options") or {})
    assert not own & set(fragment_options()), f"{module} redefines shared connection options"
    assert not own & {"login_host", "login_user", "login_password", "db", "ssl_mode"}


def test_legacy_fail_on_mismatch():
    assert fail_on_from_legacy("fail", None) == "fail"
    assert fail_on_from_legacy("pending", None) == "pending"
    assert fail_on_from_legacy("fail", False) == "never"
    assert fail_on_from_legacy("fail", True) == "fail"
