"""The database down-path without a server: its option group against its doc fragment, the schema
difference and how it is named, migration step parsing, and the verdict with or without the database."""

from __future__ import annotations

import copy

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.deploysafe.preflight.plugins.doc_fragments.pg_down_path import ModuleDocFragment
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.rollback_db import SKIPPED, with_database
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import down_path_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.down_path import DownPathOptions
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.migration import MigrationStep
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.schema import (
    SCHEMA_FORMAT, changed_relations, describe_difference, diff_schemas)
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import PASS, make_verdict, measurement


def _compare(spec, docs, where):
    assert set(spec) == set(docs), where
    for name, entry in spec.items():
        doc = docs[name]
        assert entry["type"] == doc["type"], f"{where}.{name}"
        assert sorted(entry.get("aliases", [])) == sorted(doc.get("aliases", [])), f"{where}.{name}"
        assert entry.get("choices") == doc.get("choices"), f"{where}.{name}"
        assert entry.get("default") == doc.get("default"), f"{where}.{name}"
        assert entry.get("elements") == doc.get("elements"), f"{where}.{name}"
        if "options" in entry:
            _compare(entry["options"], doc["suboptions"], f"{where}.{name}")


def test_doc_fragment_matches_the_option_group():
    doc = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["database"]
    _compare(down_path_argument_spec()["options"], doc["suboptions"], "database")
    assert down_path_argument_spec()["options"]["password"]["no_log"] is True


def validated(database):
    result = ArgumentSpecValidator({"database": down_path_argument_spec()}).validate({"database": database})
    return result


def test_option_group_requires_one_backup_and_a_down_migration():
    ok = validated({"backup": "/b/x.zst", "down_migration": {"sql_file": "/m/down.sql"}, "login_password": "pw"})
    assert not ok.error_messages
    params = ok.validated_parameters["database"]
    assert params["password"] == "pw" and params["jobs"] == 2
    assert "pw" in ok._no_log_values
    assert validated({"backup": "/b", "backup_location": "/d", "down_migration": {"sql_file": "f"}}).error_messages
    assert validated({"backup": "/b"}).error_messages
    assert validated({"backup": "/b", "down_migration": {"sql_file": "f", "command": ["x"]}}).error_messages
    assert validated({"backup": "/b", "down_migration": {"env": {"A": "1"}}}).error_messages


def test_migration_step_from_params():
    step = MigrationStep.from_params("down", {"command": ["alembic", "downgrade", -1], "env": {"N": 1}})
    assert step.command == ["alembic", "downgrade", "-1"] and step.env == {"N": "1"}
    assert step.describe() == {"command": ["alembic", "downgrade", "-1"], "env": ["N"]}
    assert MigrationStep.from_params("up", None) is None
    with pytest.raises(PgError, match="env applies to a command"):
        MigrationStep.from_params("up", {"sql_file": "f.sql", "env": {"A": "1"}})
    with pytest.raises(PgError, match="down_migration is required"):
        DownPathOptions.from_params({"backup": "/b"})


SCHEMA = {"format": SCHEMA_FORMAT, "format_version": 1, "sequences": {}, "enums": {}, "relations": {
    "public.orders": {"kind": "table", "columns": {"id": {"type": "bigint", "not_null": True, "default": None}},
                      "constraints": {"orders_customer_id_fkey": {
                          "type": "foreign key", "definition": "FOREIGN KEY (customer_id) REFERENCES public.customers(id)"}},
                      "indexes": {}},
    "public.customers": {"kind": "table", "columns": {}, "constraints": {}, "indexes": {}}}}


def test_schema_difference_names_the_constraint_and_the_table():
    after = copy.deepcopy(SCHEMA)
    del after["relations"]["public.orders"]["constraints"]["orders_customer_id_fkey"]
    after["relations"]["public.orders"]["columns"]["id"]["not_null"] = False
    after["relations"]["public.coupons"] = {"kind": "table", "columns": {}, "constraints": {}, "indexes": {}}
    diffs = diff_schemas(SCHEMA, after)
    assert [describe_difference(d) for d in diffs] == [
        "table public.coupons unexpected",
        "column id of public.orders differs",
        "foreign key constraint orders_customer_id_fkey of public.orders missing",
    ]
    assert changed_relations(SCHEMA, after) == {"public.coupons", "public.orders"}
    assert diff_schemas(SCHEMA, copy.deepcopy(SCHEMA)) == []


def _rollback_result(status=PASS):
    return {"verdict": make_verdict(status, "rolled back", measurements=[measurement("rollback_seconds", 4.0, "s", 60, "<=")]),
            "rollback_estimate_seconds": 40.0}


def test_without_a_database_the_summary_says_skipped_and_the_status_stays():
    result = with_database(_rollback_result(), None, check_mode=False)
    assert result["verdict"]["status"] == "pass"
    assert result["verdict"]["summary"].endswith(SKIPPED)
    assert result["database"] == {"skipped": True}
