"""S3: a real MinIO server built from its Go module (make minio), erasure-coded over four local
drives so that bucket versioning works, with random root credentials."""

from __future__ import annotations

import secrets
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
        proc = spawn(argv, log, env=env, attached=self.env.attached)
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            with urllib.request.urlopen(url + "/minio/health/ready", timeout=2) as resp:
                return resp.status == 200

        wait_until("MinIO", ready, timeout=60, proc=proc, log_path=log)
        data = {"endpoint_url": url, "access_key": access, "secret_key": secret, "region": "us-east-1",
                "bucket": BUCKET, "log": str(log), "data_dirs": [str(d) for d in drives]}
        client = s3_client(data)
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        return ServiceInfo(
            name=self.name, pids=[proc.pid], ports=[port, console],
            exports={"S3_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret,
                     "AWS_DEFAULT_REGION": "us-east-1", "DEPLOYSAFE_S3_BUCKET": BUCKET},
            data=data,
        )
