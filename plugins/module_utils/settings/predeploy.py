# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings of playbooks/predeploy.yml, in one place: their names, their plain defaults, and the
checks the play runs first (a release vars file that loads, no misspelt `preflight_*` name).

The defaults are applied only to names nobody defined, so inventory group_vars, host_vars, a release
file and extra vars all override them (play `vars:` would beat group_vars; these never compete).
"""
from __future__ import annotations

import difflib
import os
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.errors import PreflightError

# name -> default. Empty means "not configured": the steps that need it record nothing (pending).
DEFAULTS: Dict[str, Any] = {
    # the release run
    "preflight_run_dir": "",            # the play passes <playbook_dir>/../.cache/preflight-run
    "preflight_run_id": "",
    "preflight_release": {},            # release identity stored with the run (version, change_ticket)
    "preflight_fail_on": "pending",
    # what is about to ship (usually in the release vars file)
    "preflight_image": "",
    "preflight_manifests": [],          # a list, or a comma-separated string
    "preflight_repo": "",
    "preflight_migration_up": "",
    "preflight_migration_down": "",
    "preflight_current_manifests": [],  # version N as manifests, when production's namespace is not readable
    "preflight_runtime_baseline": "",
    # Kubernetes
    "preflight_kubeconfig": "",
    "preflight_k8s_namespace": "",
    "preflight_rehearsal_health_url": "",
    "preflight_rehearsal_secrets": {},
    "preflight_rollback_sla_seconds": 1800,
    # PostgreSQL
    "preflight_pg_host": "",
    "preflight_pg_port": 5432,
    "preflight_pg_user": "",
    "preflight_pg_password": "",
    "preflight_pg_database": "",
    "preflight_pg_admin_user": "",
    "preflight_pg_admin_password": "",
    # backups
    "preflight_backup_dir": "",         # default <run_dir>/backups
    "preflight_backup_location": "",
    "preflight_backup_status_file": "",
    "preflight_backup_audit_days": 7,
    "preflight_age_recipients": [],
    "preflight_age_identity_file": "",
    # step 4's evidence: pg_dump (pg_backup role) or pgbackrest (a physical backup and a restore drill)
    "preflight_pg_backup_method": "pg_dump",
    "preflight_pgbackrest_config": "/etc/pgbackrest/pgbackrest.conf",
    "preflight_pgbackrest_stanza": "main",
    "preflight_pgbackrest_os_user": "",      # empty: the owner of the stanza's data directory
    "preflight_pgbackrest_backup_type": "incr",
    # S3-compatible storage
    "preflight_s3_endpoint_url": "",
    "preflight_s3_region": "us-east-1",
    "preflight_s3_access_key": "",
    "preflight_s3_secret_key": "",
    "preflight_s3_bucket": "",
    # the running service
    "preflight_app_url": "",
    "preflight_load_profile": "load",      # 100 users, 10 min sustained: a real run
    "preflight_load_think_time": 0.05,
    "preflight_load_time_scale": 1.0,
    "preflight_load_requests": [{"url": "/healthz", "name": "health"}],
    "preflight_load_engine": "builtin",      # builtin, locust or k6
    "preflight_load_locustfile": "",         # empty: Locust plays preflight_load_requests
    "preflight_load_k6_script": "",          # empty: k6 plays preflight_load_requests
    "preflight_prometheus_url": "",
    "preflight_alertmanager_url": "",
    # sign-off verification (playbooks/signoff.yml signs)
    "preflight_signoff_hmac_secret": "",
    "preflight_signoff_public_keys": [],
    # where the release's settings come from, besides -e @file
    "preflight_release_file": "",
}

# Read by the other playbooks of the collection (a team's group_vars/all serves them all).
OTHER_PLAYBOOKS = frozenset({
    "preflight_signoff_by", "preflight_signoff_key_file", "preflight_signoff_key",
    "preflight_signoff_key_passphrase", "preflight_checklist_items",
})
# Set by the play itself; never configured.
INTERNAL = frozenset({"preflight_run", "preflight_step_role", "preflight_step_record", "preflight_checklist",
                      "preflight_settings", "preflight_manifest_paths", "preflight_current_manifest_paths",
                      "preflight_play_defaults"})
SECRETS = frozenset({"preflight_pg_password", "preflight_pg_admin_password", "preflight_s3_secret_key",
                     "preflight_s3_access_key", "preflight_signoff_hmac_secret"})
KNOWN = frozenset(DEFAULTS) | OTHER_PLAYBOOKS
PREFIX = "preflight_"


class SettingsError(PreflightError, ValueError):
    """A setting the play cannot run with; the message names it."""


def closest(name: str, known: Iterable[str] = KNOWN) -> Optional[str]:
    """The known name `name` most likely misspells, or None."""
    match = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    return match[0] if match else None


def unknown_names(names: Iterable[str], where: str) -> Tuple[List[str], List[str]]:
    """(errors, warnings) for `preflight_*` names that are neither known nor internal: a name close to
    a known one is an error (a typo silently leaves the real setting at its default); others warn."""
    errors, warnings = [], []
    for name in sorted(set(names)):
        if not name.startswith(PREFIX) or name in KNOWN or name in INTERNAL:
            continue
        guess = closest(name)
        if guess:
            errors.append(f"unknown variable {name!r} in {where}: did you mean {guess!r}?")
        else:
            warnings.append(f"unknown variable {name!r} in {where} (not a setting of predeploy.yml)")
    return errors, warnings


def load_release_file(path: str) -> Dict[str, Any]:
    """The release vars file as a mapping of known settings; SettingsError naming the file otherwise."""
    import yaml  # the controller always has PyYAML (ansible-core requires it)

    if not path:
        return {}
    if not os.path.isfile(path):
        raise SettingsError(f"preflight_release_file: {path} does not exist (or is not a file)")
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SettingsError(f"preflight_release_file: {path} is not valid YAML{where}: "
                            f"{getattr(exc, 'problem', None) or exc}") from None
    except OSError as exc:
        raise SettingsError(f"preflight_release_file: cannot read {path}: {exc.strerror}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"preflight_release_file: {path} must be a mapping of preflight_* variables, "
                            f"not a {type(data).__name__}")
    wrong = [str(key) for key in data if not str(key).startswith(PREFIX)]
    if wrong:
        raise SettingsError(f"preflight_release_file: {path}: {wrong[0]!r} is not a preflight_* variable")
    errors = unknown_names(data, path)[0]
    if errors:
        raise SettingsError(errors[0])
    unknown = sorted(set(data) - KNOWN)
    if unknown:
        raise SettingsError(f"unknown variable {unknown[0]!r} in {path} (not a setting of predeploy.yml)")
    return data


def as_list(value: Any, name: str) -> List[str]:
    """A list setting given as a list or a comma-separated string (what environment variables hold)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return [str(part) for part in value if str(part)]
    raise SettingsError(f"{name} must be a list or a comma-separated string, not a {type(value).__name__}")


def check_types(values: Dict[str, Any]) -> None:
    """SettingsError naming the first setting whose value has the wrong shape."""
    for name in ("preflight_pg_port", "preflight_rollback_sla_seconds", "preflight_backup_audit_days"):
        value = values.get(name)
        if value not in (None, "") and not str(value).strip().isdigit():
            raise SettingsError(f"{name} must be a whole number, not {value!r}")
    for name in ("preflight_load_think_time", "preflight_load_time_scale"):
        value = values.get(name)
        try:
            float(value if value not in (None, "") else 0)
        except (TypeError, ValueError):
            raise SettingsError(f"{name} must be a number, not {value!r}") from None
    engine = values.get("preflight_load_engine")
    if engine not in (None, "builtin", "locust", "k6"):
        raise SettingsError(f"preflight_load_engine must be one of builtin, locust, k6, not {engine!r}")
    method = values.get("preflight_pg_backup_method")
    if method not in (None, "pg_dump", "pgbackrest"):
        raise SettingsError(f"preflight_pg_backup_method must be pg_dump or pgbackrest, not {method!r}")
    backup_type = values.get("preflight_pgbackrest_backup_type")
    if backup_type not in (None, "full", "diff", "incr"):
        raise SettingsError(f"preflight_pgbackrest_backup_type must be one of full, diff, incr, not {backup_type!r}")
    fail_on = values.get("preflight_fail_on")
    if fail_on not in (None, "pending", "fail", "never"):
        raise SettingsError(f"preflight_fail_on must be one of pending, fail, never, not {fail_on!r}")
    for name in ("preflight_load_requests",):
        value = values.get(name)
        if value is not None and not (isinstance(value, list) and all(isinstance(r, dict) and r.get("url")
                                                                      for r in value)):
            raise SettingsError(f"{name} must be a list of requests, each with a url")
    for name in ("preflight_release", "preflight_rehearsal_secrets"):
        value = values.get(name)
        if value not in (None, "") and not isinstance(value, dict):
            raise SettingsError(f"{name} must be a mapping, not a {type(value).__name__}")
