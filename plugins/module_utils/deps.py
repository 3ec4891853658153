# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one missing-library check of every module (kubernetes.core's `requires()` idea).

module_utils import optional libraries inside try/except so that importing them never crashes;
the module then calls `requires(module, ...)` once, before doing anything, and the user gets one
`missing_required_lib` message that names every library missing on the managed node, with the
name to install, instead of a traceback half-way through a run.
"""

from __future__ import annotations

import importlib
from typing import List, Optional

from ansible.module_utils.basic import missing_required_lib

# What to install when the import name is not the distribution's name.
PIP_NAMES = {"hdrh": "hdrhistogram", "yaml": "PyYAML"}


def missing_libraries(*imports: Optional[str]) -> List[str]:
    """Install names of the libraries among `imports` (import names, dotted allowed; None and "" are
    skipped, so optional ones read `"pyrage" if encrypted else None`) that cannot be imported here."""
    missing: List[str] = []
    for name in imports:
        if not name:
            continue
        try:
            importlib.import_module(name)
        except ImportError:
            pip = PIP_NAMES.get(name.split(".")[0], name.split(".")[0])
            if pip not in missing:
                missing.append(pip)
    return missing


def requires(module, *imports: Optional[str], reason: Optional[str] = None) -> None:
    """Fail `module` (an AnsibleModule) with one message naming every missing library; return when
    all of them import."""
    missing = missing_libraries(*imports)
    if missing:
        module.fail_json(msg=missing_required_lib(", ".join(missing), reason=reason))
