"""S3: a real MinIO server built from its Go module (make minio), erasure-coded over four local
drives so that bucket versioning works, with random root credentials."""

from __future__ import annotations

import datetime
import secrets
import ssl
import urllib.request
from pathlib import Path

from deploysafe_testenv.env import Service, ServiceInfo
from deploysafe_testenv.process import ServiceError, free_port, spawn, wait_until

BUCKET = "preflight-source"


def s3_client(data: dict, **overrides):
    """boto3 client for the harness server (path-style; checksums only when required, as MinIO expects)."""
    import boto3
    from botocore.config import Config

    opts = dict(endpoint_url=data["endpoint_url"], aws_access_key_id=data["access_key"],
                aws_secret_access_key=data["secret_key"], region_name=data["region"])
    opts.update(overrides)
    return boto3.client("s3", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2},
                                            request_checksum_calculation="when_required",
                                            response_checksum_validation="when_required"), **opts)


class MinioService(Service):
    name = "s3"
    tls = False

    def start(self) -> ServiceInfo:
        binary = self.env.cache_dir / "bin" / "minio"
        if not binary.exists():
            raise ServiceError(f"{binary} is missing: build it with `make minio`")
        drives = [self.dir / f"drive{i}" for i in range(1, 5)]
        for d in drives:
            d.mkdir(exist_ok=True)
        port, console = free_port(), free_port()
        access, secret = "preflight-" + secrets.token_hex(4), secrets.token_urlsafe(24)
        env = {"MINIO_ROOT_USER": access, "MINIO_ROOT_PASSWORD": secret, "MINIO_BROWSER": "off",
               "MINIO_UPDATE": "off", "MINIO_CI_CD": "1", "HOME": str(self.dir), "PATH": "/usr/bin:/bin"}
        log = self.dir / "minio.log"
        argv = [str(binary), "server", "--quiet", "--address", f"127.0.0.1:{port}",
                "--console-address", f"127.0.0.1:{console}"] + [str(d) for d in drives]
        context, extra = None, {}
        if self.tls:
            ca_file = write_certificates(self.dir / "certs")
            argv[2:2] = ["--certs-dir", str(self.dir / "certs")]
            context = ssl.create_default_context(cafile=ca_file)
            extra = {"ca_file": ca_file}
        proc = spawn(argv, log, env=env, attached=self.env.attached)
        url = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"

        def ready() -> bool:
            with urllib.request.urlopen(url + "/minio/health/ready", timeout=2, context=context) as resp:
                return resp.status == 200

        wait_until("MinIO", ready, timeout=60, proc=proc, log_path=log)
        data = {"endpoint_url": url, "access_key": access, "secret_key": secret, "region": "us-east-1",
                "bucket": BUCKET, "log": str(log), "data_dirs": [str(d) for d in drives], **extra}
        client = s3_client(data, verify=extra.get("ca_file", True))
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        return ServiceInfo(
            name=self.name, pids=[proc.pid], ports=[port, console],
            exports={"S3_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret,
                     "AWS_DEFAULT_REGION": "us-east-1", "DEPLOYSAFE_S3_BUCKET": BUCKET},
            data=data,
        )


def write_certificates(certs: Path) -> str:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost in MinIO's --certs-dir layout
    (public.crt, private.key); returns the CA file clients verify against."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    certs.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deploysafe testenv CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            # pgBackRest 2.45 matches the host only against DNS names: 127.0.0.1 is listed as one too
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.DNSName("127.0.0.1"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (certs / "public.crt").write_bytes(cert.public_bytes(pem))
    (certs / "private.key").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    (certs / "private.key").chmod(0o600)
    ca_file = certs / "ca.crt"
    ca_file.write_bytes(ca.public_bytes(pem))
    ca_file.chmod(0o644)
    return str(ca_file)


class TlsMinioService(MinioService):
    """The same MinIO serving HTTPS with a throwaway CA (pgBackRest speaks only HTTPS to S3); data carries ca_file."""

    name = "s3_tls"
    tls = True

    def start(self) -> ServiceInfo:
        info = super().start()
        # Started next to the plain-HTTP MinIO: its exports must not replace S3_ENDPOINT_URL & co.
        info.exports = {"DEPLOYSAFE_S3TLS_" + key: value for key, value in info.exports.items()}
        info.exports["DEPLOYSAFE_S3TLS_CA_FILE"] = str(info.data["ca_file"])
        return info
