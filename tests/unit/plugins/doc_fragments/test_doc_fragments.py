"""The shared doc fragments stay in step with the code, and modules use them instead of pasted blocks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from ansible_collections.deploysafe.preflight.plugins.doc_fragments.attributes import ModuleDocFragment as Attributes
from ansible_collections.deploysafe.preflight.plugins.doc_fragments.s3 import ModuleDocFragment as S3
from ansible_collections.deploysafe.preflight.plugins.doc_fragments.verdict import ModuleDocFragment as Verdict
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import s3_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import FAIL_ON

MODULES = sorted((Path(__file__).resolve().parents[4] / "plugins" / "modules").glob("*.py"))


def documentation(path: Path) -> dict:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{path} has no DOCUMENTATION")


def _same_as_spec(options: dict) -> None:
    spec = s3_argument_spec()
    assert set(options) == set(spec)
    for name, arg in spec.items():
        doc = options[name]
        assert doc["type"] == arg["type"], name
        assert doc.get("default") == arg.get("default"), name
        assert doc.get("aliases", []) == arg.get("aliases", []), name


def test_s3_fragments_match_the_argument_spec():
    _same_as_spec(yaml.safe_load(S3.DOCUMENTATION)["options"])
    nested = yaml.safe_load(S3.NESTED)["options"]["s3"]
    assert nested["type"] == "dict"
    _same_as_spec(nested["suboptions"])
    # references point at the nested path, so ansible-doc links resolve
    assert "O(s3.region)" in nested["suboptions"]["endpoint_url"]["description"][1]


def test_the_two_copies_of_the_s3_options_say_the_same():
    """yamllint in ansible-test needs literal fragment strings, so NESTED repeats DOCUMENTATION's text."""
    top, nested = yaml.safe_load(S3.DOCUMENTATION), yaml.safe_load(S3.NESTED)
    as_nested = yaml.safe_load(yaml.safe_dump(top["options"]).replace("O(region)", "O(s3.region)"))
    assert nested["options"]["s3"]["suboptions"] == as_nested
    assert nested["notes"] == top["notes"]
    top["options"]["region"]["description"] = "planted drift"
    assert nested["options"]["s3"]["suboptions"] != top["options"]


def test_fail_on_fragment_matches_the_gate():
    option = yaml.safe_load(Verdict.FAIL_ON)["options"]["fail_on"]
    assert option["choices"] == list(FAIL_ON) and option["default"] in FAIL_ON


@pytest.mark.parametrize("variant", ["DOCUMENTATION", "READ_ONLY", "NO_DIFF"])
def test_attribute_fragments_parse(variant):
    assert "attributes" in yaml.safe_load(getattr(Attributes, variant))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_modules_take_attributes_and_nested_s3_from_fragments(path):
    doc = documentation(path)
    assert "deploysafe.preflight.attributes" in doc.get("extends_documentation_fragment", [])
    for name, attribute in (doc.get("attributes") or {}).items():
        assert "description" not in attribute, f"{path.stem}: attributes.{name} repeats the fragment's description"
    s3 = (doc.get("options") or {}).get("s3")
    if s3 is not None:
        assert "suboptions" not in s3, f"{path.stem}: nested s3 options are pasted; use deploysafe.preflight.s3.nested"
        assert "deploysafe.preflight.s3.nested" in doc["extends_documentation_fragment"]
