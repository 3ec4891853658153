"""The bundled default schema is the schema of the Kubernetes version it names: regenerated from the
harness's real kube-apiserver (k8s fixture) it must equal plugins/module_utils/manifests/k8s_schema_1_36.py,
and that server must be the version the default target names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("deploysafe_testenv.services.k8s")

from kubernetes import client, config  # noqa: E402

from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.k8s_schema import (  # noqa: E402
    DEFAULT_VERSION, SCHEMAS,
)

ROOT = Path(__file__).resolve().parents[3]


def test_default_schema_regenerates_from_the_live_api_server(k8s):
    info = client.VersionApi(config.new_client_from_config(config_file=k8s["kubeconfig"])).get_code()
    assert f"{info.major}.{re.sub(r'[^0-9]', '', info.minor)}" == DEFAULT_VERSION
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-k8s-schema"), "--kubeconfig", k8s["kubeconfig"],
                          "--out", "-"], check=True, capture_output=True, text=True, timeout=120).stdout
    bundled = Path(SCHEMAS[DEFAULT_VERSION].__file__).read_text()
    patch = re.compile(r"kube-apiserver v\d+\.\d+\.\d+\S*")  # a patch release serves the same schema
    assert patch.sub("kube-apiserver", out) == patch.sub("kube-apiserver", bundled)
