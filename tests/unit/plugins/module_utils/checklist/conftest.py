"""Fixtures: a run directory, and one where every item but the sign-off passed."""

from __future__ import annotations

import pytest
from checklist_helpers import put, start

from ansible_collections.deploysafe.preflight.plugins.module_utils.checklist.items import SIGNOFF_NAME, build_items
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import measurement


@pytest.fixture
def run_dir(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    start(d)
    return d


@pytest.fixture
def all_pass(run_dir):
    """Every item except the sign-off recorded as pass."""
    for item in build_items():
        for name in item.sources if item.name != SIGNOFF_NAME else ():
            put(run_dir, name, measurements=[measurement("duration", 1.5, "s", 10, "<=")])
    return run_dir
