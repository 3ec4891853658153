"""Certificates and keys for the local control plane, made with `cryptography`.

One CA signs the API server's serving certificate and every client certificate; the API server
trusts client certificates from it (--client-ca-file) and maps CN to user, O to groups. ECDSA P-256
keys: generated in milliseconds, accepted by every component (the service-account key signs ES256).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=7)  # a test cluster lives minutes; a week tolerates clock skew


@dataclass
class CertFiles:
    cert: Path
    key: Path

    def cert_pem(self) -> bytes:
        return self.cert.read_bytes()

    def key_pem(self) -> bytes:
        return self.key.read_bytes()


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def _name(cn: str, orgs: Iterable[str] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    return x509.Name(attrs + [x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + VALIDITY))


class CertificateAuthority:
    """A self-signed CA kept on disk as ca.crt/ca.key in `directory`."""

    def __init__(self, directory: Path, common_name: str = "deploysafe-testenv-ca"):
        self.dir = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.subject = _name(common_name)
        self.cert = (_builder(self.subject, self.subject, self.key.public_key())
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                  content_commitment=False, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                                    critical=False)
                     .sign(self.key, hashes.SHA256()))
        self.files = self._write("ca", self.cert, self.key)

    def _write(self, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> CertFiles:
        files = CertFiles(self.dir / f"{stem}.crt", self.dir / f"{stem}.key")
        files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(files.key, key)
        return files

    def issue(self, stem: str, common_name: str, *, orgs: Sequence[str] = (), server: bool = False,
              dns_names: Sequence[str] = (), ips: Sequence[str] = ()) -> CertFiles:
        """Sign a client certificate (or a serving one with server=True) and write <stem>.crt/.key."""
        key = ec.generate_private_key(ec.SECP256R1())
        usage = [ExtendedKeyUsageOID.SERVER_AUTH] if server else [ExtendedKeyUsageOID.CLIENT_AUTH]
        builder = (_builder(_name(common_name, orgs), self.subject, key.public_key())
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False,
                                                content_commitment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=False, crl_sign=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                                  critical=False))
        sans = [x509.DNSName(d) for d in dns_names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return self._write(stem, builder.sign(self.key, hashes.SHA256()), key)


def service_account_key(directory: Path, stem: str = "sa") -> CertFiles:
    """Service-account token signing key (sa.key) and its public key (sa.pub)."""
    key = ec.generate_private_key(ec.SECP256R1())
    files = CertFiles(directory / f"{stem}.pub", directory / f"{stem}.key")
    _write_key(files.key, key)
    files.cert.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    return files


def apiserver_serving_names(service_ip: Optional[str] = None) -> dict:
    """SANs clients may use to reach the API server: loopback plus the in-cluster service names."""
    dns = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
           "kubernetes.default.svc.cluster.local"]
    ips = ["127.0.0.1", "::1"] + ([service_ip] if service_ip else [])
    return {"dns_names": dns, "ips": ips}
