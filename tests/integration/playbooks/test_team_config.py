"""predeploy.yml configured the way a team writes it: inventory group_vars, a release vars file, vault
secrets. Cheap runs: only the always-tagged tasks (settings check, start_run, the checklist)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "predeploy"
BIN = Path(sys.executable).parent


def ansible(tool: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFLIGHT_", "PG", "DEPLOYSAFE_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collection"), ANSIBLE_NOCOLOR="1")
    return subprocess.run([str(BIN / tool), *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def inventory(tmp_path: Path, group_vars: str) -> Path:
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    (tmp_path / "group_vars" / "all" / "main.yml").write_text(group_vars)
    (tmp_path / "inventory.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
    return tmp_path / "inventory.yml"


def predeploy(inv: Path, *args: str) -> subprocess.CompletedProcess:
    return ansible("ansible-playbook", "-i", str(inv), "playbooks/predeploy.yml", "--tags", "start_run",
                   "-e", "preflight_fail_on=never", *args)


def report(run_dir: Path) -> dict:
    return json.loads((run_dir / "report" / "checklist.json").read_text())


def test_group_vars_override_the_defaults_and_the_release_file_and_extra_vars_override_them(tmp_path):
    run_dir = tmp_path / "run"
    inv = inventory(tmp_path / "inv", f"preflight_run_dir: {run_dir}\n"
                                      "preflight_release: {version: from-group-vars}\n"
                                      "preflight_load_profile: load\n")
    result = predeploy(inv, "-v")
    assert result.returncode == 0, result.stdout[-3000:]
    assert report(run_dir)["release"] == {"version": "from-group-vars"}  # not the default {}
    # defaulted only what nobody set: the group_vars names are not among the defaults set by the play
    assert "item=preflight_load_profile" not in result.stdout and "item=preflight_release)" not in result.stdout
    assert "item=preflight_load_think_time" in result.stdout

    release = tmp_path / "release.yml"
    release.write_text("preflight_release: {version: 2.0.0, change_ticket: CHG-1}\n")
    result = predeploy(inv, "-e", f"preflight_release_file={release}")
    assert result.returncode == 0, result.stdout[-3000:]
    assert report(run_dir)["release"] == {"version": "2.0.0", "change_ticket": "CHG-1"}

    result = predeploy(inv, "-e", f"preflight_release_file={release}", "-e", '{"preflight_release": {"version": "x"}}')
    assert result.returncode == 0, result.stdout[-3000:]
    assert report(run_dir)["release"] == {"version": "x"}


def test_a_misspelt_variable_fails_first_naming_it_and_the_known_name(tmp_path):
    run_dir = tmp_path / "run"
    inv = inventory(tmp_path / "inv", f"preflight_run_dir: {run_dir}\npreflight_pg_hots: db.example.internal\n")
    result = predeploy(inv)
    assert result.returncode != 0
    assert "unknown variable 'preflight_pg_hots'" in result.stdout
    assert "did you mean 'preflight_pg_host'?" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not run_dir.exists()  # nothing started, no report that looks complete


def test_a_malformed_or_missing_release_file_fails_naming_the_file(tmp_path):
    run_dir = tmp_path / "run"
    inv = inventory(tmp_path / "inv", f"preflight_run_dir: {run_dir}\n")
    release = tmp_path / "release-0.1.0.yml"
    release.write_text("preflight_image: /srv/app.tar\npreflight_manifests: [/srv/k8s\n")
    result = predeploy(inv, "-e", f"preflight_release_file={release}")
    assert result.returncode != 0
    assert f"preflight_release_file: {release} is not valid YAML at line" in result.stdout
    result = predeploy(inv, "-e", f"preflight_release_file={tmp_path / 'gone.yml'}")
    assert result.returncode != 0
    assert f"{tmp_path / 'gone.yml'} does not exist" in result.stdout
    release.write_text("preflight_pg_password: hunter-example\n")
    result = predeploy(inv, "-e", f"preflight_release_file={release}")
    assert result.returncode != 0 and "secrets belong in Ansible Vault" in result.stdout
    assert "hunter-example" not in result.stdout
    assert not run_dir.exists()


def test_the_example_syntax_checks_decrypts_and_validates(tmp_path):
    password = tmp_path / "vault-pass"
    password.write_text("preflight-example\n")  # the password examples/predeploy/README.md states
    inv = str(EXAMPLE / "inventory.yml")
    result = ansible("ansible-playbook", "-i", inv, "playbooks/predeploy.yml", "--syntax-check",
                     "--vault-password-file", str(password))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "preflight-example" in (EXAMPLE / "README.md").read_text()
    assert (EXAMPLE / "group_vars/all/vault.yml").read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")
    host = ansible("ansible-inventory", "-i", inv, "--host", "localhost", "--vault-password-file", str(password))
    assert host.returncode == 0, host.stderr
    secrets = {k: v for k, v in json.loads(host.stdout).items() if k.startswith("vault_")}
    assert len(secrets) == 5 and all(v.startswith("CHANGE-ME-example-") for v in secrets.values())
    # the example's settings and release file pass the play's checks (the steps are not selected; the
    # release's artifacts under /srv do not exist here, so -e blanks what start_run would hash)
    run_dir = tmp_path / "run"
    result = ansible("ansible-playbook", "-i", inv, "playbooks/predeploy.yml", "--tags", "start_run",
                     "--vault-password-file", str(password), "-e", f"preflight_run_dir={run_dir}",
                     "-e", "preflight_fail_on=never", "-e", f"preflight_release_file={EXAMPLE / 'release.yml'}",
                     "-e", '{"preflight_image": "", "preflight_manifests": [], "preflight_repo": ""}')
    assert result.returncode == 0, result.stdout[-3000:]
    assert report(run_dir)["release"] == {"version": "0.1.0", "change_ticket": "CHG-1234"}
