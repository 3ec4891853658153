"""The AWX and CI examples: ansible-lint and --syntax-check on examples/awx, the CI files against the official
schemas (check-jsonschema's vendored GitHub workflow and GitLab CI schemas), the AWX objects consistent with
each other and with what the playbooks read, and every playbook the docs and examples name present."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
AWX = ROOT / "examples" / "awx"
CI_FILES = {
    "vendor.github-workflows": ROOT / "examples" / "ci" / "github" / "preflight.yml",
    "vendor.gitlab-ci": ROOT / "examples" / "ci" / "gitlab" / ".gitlab-ci.yml",
}
AWX_PLAYBOOKS = sorted(AWX.glob("*.yml"))
# where a playbook name may appear; each must exist
NAMING_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
                *sorted(p for p in (ROOT / "examples").rglob("*") if p.is_file())]
_PLAYBOOK_PATH = re.compile(r"(?<![\w/.-])playbooks/[\w./-]+?\.ya?ml\b")
_PLAYBOOK_FQCN = re.compile(r"ansible-playbook\s+deploysafe\.preflight\.(\w+)")


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads Ansible's !unsafe tag as a plain string."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _load(path: Path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


def _tool(name: str) -> str:
    """The tool next to this Python (the venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def _ansible_env(home: Path) -> dict:
    env = dict(os.environ, HOME=str(home), ANSIBLE_LOCAL_TEMP=str(home / "tmp"))
    collection = ROOT / ".collection"
    if collection.is_dir():   # `make collection-link`: the tree under test, not an installed copy
        env["ANSIBLE_COLLECTIONS_PATH"] = str(collection)
    return env


def _run(cmd, env) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


# The playbooks read by AWX job templates and CI (text of playbooks/ and the role defaults)
def _playbook_text() -> str:
    files = [*(ROOT / "playbooks").rglob("*.yml"), *(ROOT / "roles").glob("*/defaults/main.yml")]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def test_awx_examples_exist():
    assert (AWX / "configure.yml") in AWX_PLAYBOOKS
    assert (AWX / "README.md").is_file()


def test_ansible_lint_is_clean(tmp_path):
    # a private HOME: a stale copy of the collection in ~/.ansible/collections would shadow the tree
    result = _run([_tool("ansible-lint"), "--offline", "-q", "examples", "playbooks/deploy.yml"],
                  _ansible_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("playbook", [*AWX_PLAYBOOKS, ROOT / "playbooks" / "deploy.yml"], ids=lambda p: p.name)
def test_syntax_check(playbook, tmp_path):
    result = _run([_tool("ansible-playbook"), "--syntax-check", str(playbook)], _ansible_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("schema", sorted(CI_FILES))
def test_ci_file_matches_the_official_schema(schema):
    tool = _tool("check-jsonschema")
    if shutil.which(tool) is None:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema)")
    result = subprocess.run([tool, "--builtin-schema", schema, str(CI_FILES[schema])],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_refuses_a_broken_workflow(tmp_path):
    tool = _tool("check-jsonschema")
    if shutil.which(tool) is None:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema)")
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  predeploy:\n    runs-on: ubuntu-24.04\n    stepz: []\n", encoding="utf-8")
    result = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", str(broken)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0


def test_ci_files_run_predeploy_and_publish_junit_and_sarif():
    github = _load(CI_FILES["vendor.github-workflows"])
    steps = github["jobs"]["predeploy"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any("deploysafe.preflight.predeploy" in s.get("run", "") for s in steps)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert any("checklist.junit.xml" in str(s.get("with", {})) for s in steps)
    gitlab = _load(CI_FILES["vendor.gitlab-ci"])["preflight"]
    assert any("deploysafe.preflight.predeploy" in line for line in gitlab["script"])
    assert gitlab["artifacts"]["reports"]["junit"].endswith("report/checklist.junit.xml")
    assert any(p.endswith(".sarif") for p in gitlab["artifacts"]["paths"])


def named_playbooks(text: str) -> set:
    """Playbook paths a text names: playbooks/<x>.yml, or ansible-playbook deploysafe.preflight.<x>."""
    return set(_PLAYBOOK_PATH.findall(text)) | {f"playbooks/{name}.yml" for name in _PLAYBOOK_FQCN.findall(text)}


def test_named_playbooks_finds_both_forms():
    text = "see playbooks/nope.yml, then `ansible-playbook deploysafe.preflight.gone -e x=1`; not myplaybooks/a.yml"
    assert named_playbooks(text) == {"playbooks/nope.yml", "playbooks/gone.yml"}


def test_every_named_playbook_exists():
    missing = []
    for path in NAMING_FILES:
        named = named_playbooks(path.read_text(encoding="utf-8", errors="replace"))
        missing += [f"{path.relative_to(ROOT)}: {name}" for name in sorted(named) if not (ROOT / name).is_file()]
    assert not missing, "playbooks named but not shipped:\n" + "\n".join(missing)


@pytest.fixture(scope="module")
def awx():
    play = _load(AWX / "configure.yml")[0]
    data = {}
    for name in play["vars_files"]:
        data.update(_load(AWX / name))
    return {"play": play, **data}


def test_job_templates_run_shipped_playbooks_with_known_credentials(awx):
    credentials = awx["play"]["vars"]["preflight_awx_credentials"]
    type_names = {t["name"] for t in awx["preflight_awx_credential_types"]}
    assert {c["type"] for c in credentials.values()} <= type_names
    for template in awx["preflight_awx_job_templates"]:
        assert (ROOT / template["playbook"]).is_file(), template["playbook"]
        assert set(template["credentials"]) <= set(credentials), template["name"]
    assert {t["playbook"] for t in awx["preflight_awx_job_templates"]} >= {
        "playbooks/predeploy.yml", "playbooks/signoff.yml", "playbooks/deploy.yml", "playbooks/postdeploy.yml",
        "playbooks/dr_drill.yml"}


def test_workflow_is_checks_approval_signoff_deploy(awx):
    nodes = {n["identifier"]: n for n in awx["preflight_awx_workflow"]["nodes"]}
    templates = {t["name"] for t in awx["preflight_awx_job_templates"]}
    for node in nodes.values():
        ujt = node["unified_job_template"]
        assert ujt["type"] in ("job_template", "workflow_approval")
        if ujt["type"] == "job_template":
            assert ujt["name"] in templates, ujt["name"]
        for edge in node.get("related", {}).values():
            assert {e["identifier"] for e in edge} <= set(nodes)

    def next_of(ident, kind="success_nodes"):
        return [e["identifier"] for e in nodes[ident].get("related", {}).get(kind, [])]

    assert next_of("predeploy") == ["approve"]
    assert nodes["approve"]["unified_job_template"]["type"] == "workflow_approval"
    assert next_of("approve") == ["signoff"] and next_of("approve", "failure_nodes") == ["reject"]
    assert nodes["signoff"]["extra_data"] == {"signoff_decision": "approve"}
    assert nodes["reject"]["extra_data"]["signoff_decision"] == "reject"
    assert next_of("signoff") == ["deploy"]
    # artifacts (preflight_run_id) must reach the later nodes: a workflow survey answer would beat them
    assert "preflight_run_id" not in _survey_variables(awx, awx["preflight_awx_workflow"]["survey"])


def _survey_variables(awx, survey) -> set:
    """Variables a survey asks for; an item "{{ name }}" is the shared question of that name."""
    questions = [awx[re.match(r"\{\{\s*(\w+)", q).group(1)] if isinstance(q, str) else q for q in survey]
    return {q["variable"] for q in questions}


def test_surveys_ask_for_variables_the_playbooks_read(awx):
    text = _playbook_text()
    for template in awx["preflight_awx_job_templates"]:
        for var in _survey_variables(awx, template["survey"]):
            assert re.search(rf"\b{var}\b", text), f"{template['name']}: no playbook or role reads {var}"


def test_credential_injectors_feed_what_the_playbooks_read(awx):
    text = _playbook_text()
    for ctype in awx["preflight_awx_credential_types"]:
        injectors = ctype["injectors"]
        for env_name in injectors.get("env", {}):
            assert f"'{env_name}'" in text, f"{ctype['name']}: no playbook reads ${env_name}"
        for var in injectors.get("extra_vars", {}):
            assert re.search(rf"\b{var}\b", text), f"{ctype['name']}: no playbook or role reads {var}"
        secrets = {f["id"] for f in ctype["inputs"]["fields"] if f.get("secret")}
        assert secrets, ctype["name"]


def test_no_secret_is_written_into_the_examples(awx):
    # the credentials' inputs come from a variable (a vault), never from the repository
    task = next(t for t in awx["play"]["tasks"] if "awx.awx.credential" in t)
    assert task["no_log"] is True
    assert task["awx.awx.credential"]["inputs"].startswith("{{ preflight_awx_credential_inputs[")


@pytest.mark.parametrize("group_vars", ["examples/ci/inventory/group_vars/all/main.yml",
                                        "examples/testenv/group_vars/all/main.yml",
                                        "examples/predeploy/group_vars/all/main.yml"])
def test_example_inventories_set_only_known_settings(group_vars):
    from ansible_collections.deploysafe.preflight.plugins.module_utils.settings import predeploy
    names = [n for n in _load(ROOT / group_vars) if n.startswith(predeploy.PREFIX)]
    errors, _ = predeploy.unknown_names(names, group_vars)
    assert names and not errors, errors


def test_ci_pipelines_run_predeploy_with_the_ci_inventory():
    for path in CI_FILES.values():
        assert "-i preflight/inventory.yml deploysafe.preflight.predeploy" in " ".join(path.read_text().split())
    assert (ROOT / "examples/ci/inventory/inventory.yml").is_file()
