"""Run one module through the `ansible` CLI the way a playbook task calls it, and return its result
(and the raw JSON output, to check that no secret appears anywhere in it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run_module_raw(name: str, args: dict, check: bool = False, env: dict = None, timeout: int = 300):
    """(stdout text, result dict of localhost) of `ansible localhost -m deploysafe.preflight.<name>`."""
    env = dict(env if env is not None else os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="0")
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-m",
            f"deploysafe.preflight.{name}", "-a", json.dumps(args)] + (["--check"] if check else [])
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    try:
        return out.stdout, json.loads(out.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        pytest.fail(f"no result from ansible: {out.stdout[-2000:]} {out.stderr[-2000:]}")


def run_module(name: str, args: dict, check: bool = False, env: dict = None, timeout: int = 300) -> dict:
    """The result dict of the module run (see run_module_raw)."""
    return run_module_raw(name, args, check=check, env=env, timeout=timeout)[1]
