"""One error root for every capability, and one missing-library check for every module."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import pytest
from ansible.module_utils.basic import AnsibleModule
from tests.unit.module_args import patch_module_args

from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import missing_libraries, requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.errors import PreflightError

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"
PACKAGE = "ansible_collections.deploysafe.preflight.plugins.module_utils"


def error_classes(root: Path = PLUGINS / "module_utils"):
    """(module, class name) of every class named *Error defined in module_utils."""
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("").parts
        module = ".".join((PACKAGE,) + (rel[:-1] if rel[-1] == "__init__" else rel))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                yield module, node.name


def test_every_capability_error_has_the_one_root():
    found = list(error_classes())
    assert len(found) >= 10, found  # the finder really finds them
    strays = [f"{m}.{n}" for m, n in found
              if not issubclass(getattr(importlib.import_module(m), n), PreflightError) and n != "PreflightError"]
    assert not strays, f"errors that do not subclass errors.PreflightError: {strays}"


def test_a_stray_error_class_would_be_found(tmp_path):
    (tmp_path / "stray.py").write_text("class StrayError(Exception):\n    pass\n")
    assert [n for _m, n in error_classes(tmp_path)] == ["StrayError"]


def test_specific_errors_keep_their_builtin_base():
    from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import LoadTestError
    from ansible_collections.deploysafe.preflight.plugins.module_utils.s3 import S3Error
    assert issubclass(LoadTestError, ValueError) and issubclass(LoadTestError, PreflightError)
    with pytest.raises(PreflightError, match="bucket 'x'"):
        raise S3Error("bucket 'x' does not exist")


def test_missing_libraries_names_what_to_install():
    assert missing_libraries("json", None, "", "hashlib") == []
    assert missing_libraries("no_such_library_here", "yaml", "no_such_library_here.sub") == ["no_such_library_here"]


def test_requires_fails_the_module_with_one_message(capsys):
    with patch_module_args({}):
        module = AnsibleModule(argument_spec={})
        requires(module, "json", None)  # all present: returns
        with pytest.raises(SystemExit):
            requires(module, "no_such_lib_a", "json", "no_such_lib_b")
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] and "no_such_lib_a, no_such_lib_b" in result["msg"]
    assert "Traceback" not in result["msg"]


def test_modules_use_the_one_check():
    """No module tests HAS_* flags or calls missing_required_lib itself."""
    offenders = [p.name for p in sorted((PLUGINS / "modules").glob("*.py"))
                 if "missing_required_lib" in p.read_text() or ".HAS_" in p.read_text()]
    assert not offenders
