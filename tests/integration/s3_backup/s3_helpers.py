"""Helpers shared by the S3 backup tests (imported as a plain module: the test directory is on sys.path)."""

from __future__ import annotations

import os

from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import S3Conn


def conn_for(data: dict, **overrides) -> S3Conn:
    opts = dict(endpoint_url=data["endpoint_url"], access_key=data["access_key"], secret_key=data["secret_key"],
                region=data["region"], connect_timeout=3, read_timeout=10, max_attempts=2)
    opts.update(overrides)
    return S3Conn(**opts)


# Keys the issue names: unicode, spaces, very long (1000 bytes in segments under MinIO's 255-byte limit),
# zero-byte, nested; each with its own content type and user metadata.
LONG_KEY = "long/" + "/".join(["s" * 200] * 4) + "/" + "e" * 150


def sample_objects():
    return {
        "plain.txt": (b"hello\n", "text/plain", {"owner": "alice"}),
        "with spaces/a file.bin": (os.urandom(3000), "application/octet-stream", {}),
        "ünïcødé/日本語/ключ.json": ("{\"ü\": 1}".encode(), "application/json", {"lang": "mixed"}),
        "zero-byte": (b"", "application/x-empty", {"empty": "yes"}),
        LONG_KEY: (os.urandom(70_000), "image/png", {}),
        "nested/deeper/x.csv": (b"a,b\n1,2\n" * 1000, "text/csv", {"rows": "2000"}),
    }


def populate(client, bucket: str, objects=None, prefix: str = ""):
    objects = sample_objects() if objects is None else objects
    for key, (body, ctype, meta) in objects.items():
        client.put_object(Bucket=bucket, Key=prefix + key, Body=body, ContentType=ctype, Metadata=meta)
    return objects


