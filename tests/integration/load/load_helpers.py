"""Helpers for the load tests that run modules through the `ansible` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def ansible(module: str, args: dict, tmp_path: Path) -> dict:
    """Run one module of the collection with `ansible localhost -m` and return its host result."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collection"), ANSIBLE_LOCAL_TEMP=str(tmp_path),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    out = subprocess.run([str(Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,", "-c", "local",
                          "-e", f"ansible_python_interpreter={sys.executable}",
                          "-m", f"deploysafe.preflight.{module}", "-a", json.dumps(args)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    doc = json.loads(out.stdout[out.stdout.index("{"):])
    return doc["plays"][0]["tasks"][0]["hosts"]["localhost"]
