"""`patch_module_args` for tests that build an AnsibleModule: ansible-core's own helper (2.19+), or,
under an older core (`make test-floor` runs the unit tests under the oldest one requires_ansible
claims), the classic way of handing a module its arguments."""

from __future__ import annotations

import contextlib
import json

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args=None):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

__all__ = ["patch_module_args"]
