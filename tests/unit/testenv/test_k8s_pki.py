"""The local control plane's certificates: chain, names, usages, file modes."""

from __future__ import annotations

import base64
import stat

import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from deploysafe_testenv.k8s import pki
from deploysafe_testenv.k8s.kubeconfig import kubeconfig, write_kubeconfig


def _load(files: pki.CertFiles) -> x509.Certificate:
    return x509.load_pem_x509_certificate(files.cert_pem())


def test_serving_cert_is_signed_by_ca_and_names_loopback_and_service(tmp_path):
    ca = pki.CertificateAuthority(tmp_path)
    serving = _load(ca.issue("apiserver", "kube-apiserver", server=True, **pki.apiserver_serving_names("10.96.0.1")))
    serving.verify_directly_issued_by(_load(ca.files))
    sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "kubernetes.default.svc" in sans.get_values_for_type(x509.DNSName)
    assert {str(i) for i in sans.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1", "10.96.0.1"}
    eku = serving.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_client_cert_carries_user_and_groups(tmp_path):
    ca = pki.CertificateAuthority(tmp_path)
    cert = _load(ca.issue("admin", "someone", orgs=["system:masters"]))
    cert.verify_directly_issued_by(_load(ca.files))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "someone"
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["system:masters"]
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == \
        [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_private_keys_and_kubeconfig_are_owner_only(tmp_path):
    ca = pki.CertificateAuthority(tmp_path)
    client = ca.issue("user", "user")
    sa = pki.service_account_key(tmp_path)
    path = write_kubeconfig(tmp_path / "kc", kubeconfig("https://127.0.0.1:1", ca.files.cert_pem(), client,
                                                       user="user", namespace="ns"))
    for p in (ca.files.key, client.key, sa.key, path):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    config = yaml.safe_load(path.read_text())
    assert config["contexts"][0]["context"] == {"cluster": "deploysafe-testenv", "user": "user", "namespace": "ns"}
    assert base64.b64decode(config["users"][0]["user"]["client-certificate-data"]) == client.cert_pem()
