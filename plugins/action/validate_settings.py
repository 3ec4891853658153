# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin: check predeploy.yml's settings on the controller before any step runs.

It reads the `preflight_*` variables the host has (inventory, group_vars, extra vars), loads the
release vars file named by `preflight_release_file`, fails naming the variable on a misspelt name or a
malformed file, and returns (`facts`) the plain defaults (plugins/module_utils/settings/predeploy.py) for the names
nobody defined, for the play to set, so every other source overrides them.
"""
from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import load_extra_vars

from ansible_collections.deploysafe.preflight.plugins.module_utils.settings import predeploy


display = Display()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        extra = self._task.args.get("defaults") or {}
        names = [name for name in task_vars if name.startswith(predeploy.PREFIX)]
        errors, warnings = predeploy.unknown_names(names, "the inventory or extra variables")
        if errors:
            return dict(result, failed=True, msg="; ".join(errors))
        try:
            values = {name: self._templar.template(task_vars[name]) for name in names
                      if name in predeploy.DEFAULTS}
            release_path = values.get("preflight_release_file") or ""
            release = predeploy.load_release_file(release_path)
            secrets = sorted(predeploy.SECRETS & set(release))
            if secrets:
                raise predeploy.SettingsError(f"{secrets[0]} in {release_path}: secrets belong in Ansible Vault "
                                              f"or an AWX credential, not in the release file")
            # the release file beats group_vars (the play sets its values as facts); extra vars (-e)
            # still win: they outrank set_fact, and the normalised lists below follow them
            given = set(load_extra_vars(self._loader))
            facts = {name: value for name, value in release.items() if name not in given}
            values.update(facts)
            for name, default in {**predeploy.DEFAULTS, **extra}.items():
                if name not in values:
                    values[name] = facts[name] = default
            if not values.get("preflight_backup_dir"):
                values["preflight_backup_dir"] = facts["preflight_backup_dir"] = (
                    str(values["preflight_run_dir"]).rstrip("/") + "/backups")
            predeploy.check_types(values)
            facts["preflight_manifest_paths"] = predeploy.as_list(values["preflight_manifests"],
                                                                  "preflight_manifests")
            facts["preflight_current_manifest_paths"] = predeploy.as_list(values["preflight_current_manifests"],
                                                                          "preflight_current_manifests")
            facts["preflight_age_recipients"] = predeploy.as_list(values["preflight_age_recipients"],
                                                                  "preflight_age_recipients")
        except predeploy.SettingsError as exc:
            return dict(result, failed=True, msg=str(exc))
        for warning in warnings:
            display.warning(warning)
        configured = sorted(name for name in values if name in predeploy.DEFAULTS
                            and values[name] not in ("", [], {}, None) and name not in facts)
        # returned, not as ansible_facts: those depend on inject_facts_as_vars; the play sets them
        result.update(changed=False, facts=facts, release_file=release_path,
                      configured=configured, defaulted=sorted(set(facts) & set(predeploy.DEFAULTS)))
        return result
