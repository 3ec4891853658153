#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done on the controller by plugins/action/validate_settings.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: validate_settings
short_description: Check the settings of predeploy.yml before any step runs and return their defaults
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin). Reads the C(preflight_*) variables the host has (inventory
    group_vars and host_vars, extra variables) and fails, naming the variable, when one is not a setting but
    is close to one (C(preflight_pg_hots) - did you mean C(preflight_pg_host)?). A C(preflight_*) name far
    from every setting only warns.
  - Loads the release vars file named by C(preflight_release_file) and fails naming the file when it is
    missing, not YAML (with line and column), not a mapping, holds a name that is not a setting, or holds a
    secret (secrets belong in Ansible Vault or an AWX credential).
  - Checks the shapes of the values (whole numbers, numbers, choices, the request list, mappings) and fails
    naming the first wrong one.
  - Returns in RV(facts) what the play sets with C(ansible.builtin.set_fact) - the release file's values
    (except names given as extra variables), the plain defaults of names nobody set, and the normalised
    lists - so inventory group_vars override every default. The known names and their defaults are in
    C(plugins/module_utils/settings/predeploy.py); see C(docs/configuration.md).
options:
  defaults:
    description: Defaults computed by the play, for example C(preflight_run_dir) from C(playbook_dir).
    type: dict
    default: {}
extends_documentation_fragment:
  - deploysafe.preflight.attributes
attributes:
  check_mode:
    support: full
    details: Reads variables and one file on the controller; changes nothing.
  diff_mode:
    support: N/A
    details: Changes nothing, so there is nothing to diff.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Check the settings and the release file, default what is not set
  deploysafe.preflight.validate_settings:
    defaults:
      preflight_run_dir: "{{ playbook_dir }}/../.cache/preflight-run"
  register: preflight_settings

- name: Default what is not set
  ansible.builtin.set_fact:
    "{{ item.key }}": "{{ item.value }}"
  loop: "{{ preflight_settings.facts | dict2items }}"
  loop_control:
    label: "{{ item.key }}"
"""

RETURN = r"""
facts:
  description: Variables for the play to set (release file values, defaults, C(preflight_manifest_paths)...).
  returned: success
  type: dict
release_file:
  description: The release vars file that was loaded (empty when none).
  returned: success
  type: str
configured:
  description: Names of the settings given a non-empty value by the inventory or extra variables.
  returned: success
  type: list
  elements: str
defaulted:
  description: Names of the settings that took their default.
  returned: success
  type: list
  elements: str
"""
