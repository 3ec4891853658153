"""Connection options resolved like kubernetes.core's: options, K8S_AUTH_* variables, kubeconfig,
in-cluster service account (pure configuration; no request is sent)."""

from __future__ import annotations

import secrets

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s import K8sError
from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import (
    api_error, k8s_auth_argument_spec, make_configuration, resolve_auth)


def kubeconfig_dict(token, server="https://10.9.8.7:6443"):
    return {"apiVersion": "v1", "kind": "Config", "current-context": "one",
            "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}},
                         {"name": "c2", "cluster": {"server": "https://other:6443", "insecure-skip-tls-verify": True}}],
            "users": [{"name": "u", "user": {"token": token}}],
            "contexts": [{"name": "one", "context": {"cluster": "c", "user": "u"}},
                         {"name": "two", "context": {"cluster": "c2", "user": "u"}}]}


def bearer(cfg):
    return cfg.auth_settings()["BearerToken"]["value"]


def test_argument_spec_marks_secrets_no_log_and_keeps_kubernetes_core_aliases():
    spec = k8s_auth_argument_spec()
    assert spec["api_key"]["no_log"] and spec["kubeconfig"]["no_log"]
    assert spec["validate_certs"]["aliases"] == ["verify_ssl"] and spec["ca_cert"]["aliases"] == ["ssl_ca_cert"]
    assert spec["client_cert"]["aliases"] == ["cert_file"] and spec["client_key"]["aliases"] == ["key_file"]


def test_environment_fills_unset_options_under_both_names():
    token = secrets.token_hex(8)
    env = {"K8S_AUTH_HOST": "https://api.example:6443/", "K8S_AUTH_API_KEY": token, "K8S_AUTH_VERIFY_SSL": "no",
           "K8S_AUTH_SSL_CA_CERT": "/ca.pem", "K8S_AUTH_CERT_FILE": "/c.pem", "K8S_AUTH_CONTEXT": "ctx"}
    auth = resolve_auth({"context": "given"}, env)
    assert auth == {"host": "https://api.example:6443", "api_key": token, "validate_certs": False,
                    "ca_cert": "/ca.pem", "client_cert": "/c.pem", "context": "given"}
    assert resolve_auth({}, {"K8S_AUTH_VALIDATE_CERTS": "true"})["validate_certs"] is True


def test_host_and_api_key_need_no_kubeconfig():
    token = secrets.token_hex(8)
    cfg, source = make_configuration({"host": "https://api.example:6443", "api_key": token, "validate_certs": False},
                                     service_account_dir="/nonexistent", environ={})
    assert source == "options" and cfg.host == "https://api.example:6443"
    assert bearer(cfg) == f"Bearer {token}" and cfg.verify_ssl is False


def test_kubeconfig_dict_with_context_and_api_key_override():
    kube_token, override = secrets.token_hex(8), secrets.token_hex(8)
    cfg, source = make_configuration({"kubeconfig": kubeconfig_dict(kube_token), "context": "two"}, environ={})
    assert source == "kubeconfig" and cfg.host == "https://other:6443" and bearer(cfg) == f"Bearer {kube_token}"
    cfg, _ = make_configuration({"kubeconfig": kubeconfig_dict(kube_token), "api_key": override}, environ={})
    assert cfg.host == "https://10.9.8.7:6443" and bearer(cfg) == f"Bearer {override}"


def test_kubeconfig_file_and_env_json(tmp_path):
    import json
    token = secrets.token_hex(8)
    path = tmp_path / "config"
    path.write_text(json.dumps(kubeconfig_dict(token)))
    cfg, _ = make_configuration(resolve_auth({}, {"K8S_AUTH_KUBECONFIG": str(path)}), environ={})
    assert cfg.host == "https://10.9.8.7:6443"
    cfg, _ = make_configuration(resolve_auth({}, {"K8S_AUTH_KUBECONFIG": json.dumps(kubeconfig_dict(token))}),
                                environ={})
    assert bearer(cfg) == f"Bearer {token}"


def test_in_cluster_service_account_comes_first_without_options(tmp_path):
    token = secrets.token_hex(8)
    (tmp_path / "token").write_text(token)
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    cfg, source = make_configuration({}, service_account_dir=str(tmp_path), environ=env)
    assert source == "in-cluster" and cfg.host == "https://10.0.0.1:443"
    assert bearer(cfg).lower() == f"bearer {token}" and cfg.ssl_ca_cert == str(tmp_path / "ca.crt")


def test_nothing_configured_names_what_to_set(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(K8sError, match="no Kubernetes connection: not in a cluster .* set kubeconfig"):
        make_configuration({}, service_account_dir=str(tmp_path), environ={})


def test_missing_certificate_file_is_named(tmp_path):
    with pytest.raises(K8sError, match="client_cert .*/nope.pem is not a readable file"):
        make_configuration({"host": "https://h", "client_cert": str(tmp_path / "nope.pem"),
                            "client_key": str(tmp_path / "k.pem")}, environ={})


class FakeApiException(Exception):  # the shape of kubernetes.client.ApiException, no cluster behind it
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.body, self.reason = status, '{"message": "%s"}' % message, "Forbidden"


def test_api_error_wording():
    exc = FakeApiException(403, 'deployments.apps is forbidden: User "dev" cannot patch resource')
    assert api_error(exc, "patch", "deployments", "prod").startswith("forbidden: patch deployments in namespace prod (")
    assert "cannot reach the API server" in api_error(ConnectionRefusedError("refused"), "get", "pods")


def test_service_proxy_request_is_built_with_the_connection_auth():
    """The proxy path is only unit-tested: on kwok nodes nothing answers behind a Service."""
    from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.connection import Connection
    from ansible_collections.deploysafe.preflight.plugins.module_utils.k8s.proxy import proxy_path, proxy_request
    from kubernetes import client

    assert proxy_path("rehearsal-1a2b3c", "web:http", "/healthz?full=1") == \
        "/api/v1/namespaces/rehearsal-1a2b3c/services/web:http/proxy/healthz?full=1"
    assert proxy_path("ns", "https:web:8443", "ready") == "/api/v1/namespaces/ns/services/https:web:8443/proxy/ready"
    with pytest.raises(K8sError, match="must be name, name:port or scheme:name:port"):
        proxy_path("ns", "a:b:c:d", "/")
    token = secrets.token_hex(8)
    cfg, _ = make_configuration({"host": "https://api.example:6443", "api_key": token}, environ={})
    conn = Connection(api=client.ApiClient(cfg), host=cfg.host, source="options")
    method, url, headers = proxy_request(conn, "ns", "web:8080", "/healthz")
    assert (method, url) == ("GET", "https://api.example:6443/api/v1/namespaces/ns/services/web:8080/proxy/healthz")
    assert headers["authorization"] == f"Bearer {token}"
