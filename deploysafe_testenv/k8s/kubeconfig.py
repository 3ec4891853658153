"""Kubeconfig files with embedded certificates (self-contained: copy one and it still works)."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Optional

import yaml

from deploysafe_testenv.k8s.pki import CertFiles


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def kubeconfig(server: str, ca_pem: bytes, client: CertFiles, *, cluster: str = "deploysafe-testenv",
               user: str = "admin", namespace: Optional[str] = None) -> dict:
    """A kubeconfig dict with one cluster, one client-certificate user and one current context."""
    context = {"cluster": cluster, "user": user}
    if namespace:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": user, "user": {"client-certificate-data": _b64(client.cert_pem()),
                                          "client-key-data": _b64(client.key_pem())}}],
        "contexts": [{"name": f"{user}@{cluster}", "context": context}],
        "current-context": f"{user}@{cluster}",
        "preferences": {},
    }


def write_kubeconfig(path: Path, config: dict) -> Path:
    """Write with mode 0600: it holds a private key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    return path
