# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection to the API server from options named and resolved like kubernetes.core's.

Precedence, as in kubernetes.core's client.py: a module option, else `K8S_AUTH_<OPTION>` or
`K8S_AUTH_<CLIENT NAME>` (K8S_AUTH_VERIFY_SSL, K8S_AUTH_SSL_CA_CERT, K8S_AUTH_CERT_FILE,
K8S_AUTH_KEY_FILE: the names AWX's Kubernetes credential exports). host + api_key (or host + client
cert + key) is a complete connection; otherwise kubeconfig/context are loaded; with neither, in-cluster
service-account auth is tried first, then the default kubeconfig. Explicit options then override what
was loaded. Unlike kubernetes.core, the result is a private Configuration: the client's process-wide
default is never changed, so two connections in one process do not leak into each other.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from . import K8sError

# option -> the kubernetes client's name for it (also accepted as K8S_AUTH_<NAME>)
AUTH_OPTIONS = {
    "kubeconfig": "kubeconfig",
    "context": "context",
    "host": "host",
    "api_key": "api_key",
    "validate_certs": "verify_ssl",
    "ca_cert": "ssl_ca_cert",
    "client_cert": "cert_file",
    "client_key": "key_file",
    "proxy": "proxy",
}
BOOL_OPTIONS = ("validate_certs",)
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def k8s_auth_argument_spec() -> Dict[str, Any]:
    """Connection options of every Kubernetes module (documented in the k8s_auth doc fragment)."""
    return dict(
        kubeconfig=dict(type="raw", no_log=True),  # a path, or the kubeconfig itself as a dict
        context=dict(type="str"),
        host=dict(type="str"),
        api_key=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", aliases=["verify_ssl"]),
        ca_cert=dict(type="path", aliases=["ssl_ca_cert"]),
        client_cert=dict(type="path", aliases=["cert_file"]),
        client_key=dict(type="path", aliases=["key_file"]),
        proxy=dict(type="str"),
        request_timeout=dict(type="int", default=30),
    )


@dataclass
class Connection:
    """A ready API client and how it was obtained (source never holds a secret)."""

    api: Any                     # kubernetes.client.ApiClient
    host: str
    source: str                  # "options", "kubeconfig", "in-cluster"
    request_timeout: float = 30

    def dynamic(self):
        from kubernetes import dynamic
        return dynamic.DynamicClient(self.api)


def resolve_auth(params: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Option values with K8S_AUTH_* environment fallbacks; unset options are left out."""
    environ = os.environ if environ is None else environ
    auth: Dict[str, Any] = {}
    for option, client_name in AUTH_OPTIONS.items():
        value = params.get(option)
        if value is None:
            value = environ.get(f"K8S_AUTH_{option.upper()}") or environ.get(f"K8S_AUTH_{client_name.upper()}")
            if value is not None and option in BOOL_OPTIONS:
                value = value.lower() not in ("0", "false", "no")
            if value is not None and option == "kubeconfig" and value.lstrip().startswith("{"):
                value = _kubeconfig_json(value)
        if value is not None and value != "":
            auth[option] = value
    if isinstance(auth.get("host"), str):
        auth["host"] = auth["host"].rstrip("/")
    return auth


def _kubeconfig_json(text: str) -> Dict[str, Any]:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise K8sError(f"K8S_AUTH_KUBECONFIG holds neither a path nor a JSON kubeconfig: {exc}") from None


def make_configuration(auth: Mapping[str, Any], service_account_dir: str = SERVICE_ACCOUNT_DIR,
                       environ: Optional[Mapping[str, str]] = None):
    """(kubernetes Configuration, source) for resolved auth options. Raises K8sError with what to set."""
    try:
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.incluster_config import InClusterConfigLoader
    except ImportError:
        raise K8sError("the kubernetes Python package is required (pip install kubernetes)") from None
    environ = os.environ if environ is None else environ
    cfg = client.Configuration()

    def has(*names):
        return all(auth.get(n) for n in names)
    if has("host", "api_key") or has("host", "client_cert", "client_key"):
        source = "options"
    elif has("kubeconfig") or has("context"):
        _load_kubeconfig(auth, cfg, config, ConfigException)
        source = "kubeconfig"
    else:
        try:
            InClusterConfigLoader(token_filename=os.path.join(service_account_dir, "token"),
                                  cert_filename=os.path.join(service_account_dir, "ca.crt"),
                                  environ=environ).load_and_set(cfg)
            source = "in-cluster"
        except ConfigException as in_cluster_problem:
            try:
                _load_kubeconfig(auth, cfg, config, ConfigException)
            except K8sError as exc:
                raise K8sError(f"no Kubernetes connection: not in a cluster ({in_cluster_problem}) and {exc}; "
                               "set kubeconfig, or host with api_key or client_cert/client_key "
                               "(or the K8S_AUTH_* environment variables)") from None
            source = "kubeconfig"
    _override(cfg, auth)
    if not cfg.host:
        raise K8sError("no API server address: set host (or K8S_AUTH_HOST) or a kubeconfig")
    return cfg, source


def _load_kubeconfig(auth, cfg, config, config_exception) -> None:
    kubeconfig, context = auth.get("kubeconfig"), auth.get("context")
    where = "the kubeconfig given as a dict" if isinstance(kubeconfig, dict) else \
        f"kubeconfig {kubeconfig or os.environ.get('KUBECONFIG') or '~/.kube/config'}"
    try:
        if isinstance(kubeconfig, dict):
            config.load_kube_config_from_dict(kubeconfig, context=context, client_configuration=cfg,
                                              persist_config=False)
        elif kubeconfig is None or isinstance(kubeconfig, str):
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg,
                                    persist_config=False)
        else:
            raise K8sError(f"kubeconfig must be a path or a dict, not {type(kubeconfig).__name__}")
    except (config_exception, OSError, ValueError, TypeError) as exc:
        raise K8sError(f"cannot load {where}{' context ' + context if context else ''}: {exc}") from None


def _override(cfg, auth: Mapping[str, Any]) -> None:
    if auth.get("host"):
        cfg.host = auth["host"]
    if auth.get("api_key"):
        # BearerToken wins over the alias `authorization` in the client, and kubeconfig/in-cluster
        # loaders install refresh hooks that would put their own token back: replace both.
        cfg.api_key = {"BearerToken": auth["api_key"]}
        cfg.api_key_prefix = {"BearerToken": "Bearer"}
        cfg.refresh_api_key_hook = None
    if auth.get("validate_certs") is not None:
        cfg.verify_ssl = bool(auth["validate_certs"])
    if auth.get("ca_cert"):
        cfg.ssl_ca_cert = auth["ca_cert"]
    if auth.get("client_cert"):
        cfg.cert_file = auth["client_cert"]
    if auth.get("client_key"):
        cfg.key_file = auth["client_key"]
    if auth.get("proxy"):
        cfg.proxy = auth["proxy"]
    for option in ("ca_cert", "client_cert", "client_key"):
        path = auth.get(option)
        if isinstance(path, str) and not os.path.isfile(path):
            raise K8sError(f"{option} {path} is not a readable file")


def connect(params: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None,
            service_account_dir: str = SERVICE_ACCOUNT_DIR) -> Connection:
    """An API client from module parameters (and K8S_AUTH_* environment variables)."""
    from kubernetes import client
    cfg, source = make_configuration(resolve_auth(params, environ), service_account_dir, environ)
    timeout = params.get("request_timeout") or 30
    return Connection(api=client.ApiClient(cfg), host=cfg.host, source=source, request_timeout=timeout)


def api_error(exc: BaseException, verb: str, resource: str, namespace: Optional[str] = None) -> str:
    """One line for a failed request: `forbidden: <verb> <resource>` for RBAC denials, the API server's
    message otherwise, `cannot reach the API server` for connection problems. Never the request body."""
    status = getattr(exc, "status", None)
    where = f" in namespace {namespace}" if namespace else ""
    message = _server_message(exc)
    if status == 403:
        return f"forbidden: {verb} {resource}{where} ({message})"
    if status == 401:
        return f"unauthorized: {verb} {resource}{where}: the credentials were refused ({message})"
    if status:
        return f"{verb} {resource}{where} failed: HTTP {status} {message}"
    return f"{verb} {resource}{where} failed: cannot reach the API server ({type(exc).__name__}: {str(exc)[:300]})"


def _server_message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if body:
        try:
            return str(json.loads(body).get("message") or body)[:500]
        except (ValueError, AttributeError, TypeError):
            return str(body)[:500]
    return str(getattr(exc, "reason", "") or exc)[:500]
