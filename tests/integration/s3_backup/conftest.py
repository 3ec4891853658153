"""Fixtures for the S3 backup tests: connection, fresh buckets per test, object population, age keys."""

from __future__ import annotations

import os
import secrets

import pyrage
import pytest

from deploysafe_testenv.services.minio import s3_client
from s3_helpers import conn_for


@pytest.fixture(scope="session")
def conn(s3):
    return conn_for(s3)


@pytest.fixture(scope="session")
def client(s3):
    return s3_client(s3)


def empty_bucket(client, bucket: str) -> None:
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in (page.get("Versions") or []) + (page.get("DeleteMarkers") or []):
            client.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def new_bucket(client):
    """new_bucket(versioned=False, create=True) -> a random bucket name, removed after the test."""
    made = []

    def make(versioned: bool = False, create: bool = True) -> str:
        name = "t-" + secrets.token_hex(6)
        made.append(name)
        if create:
            client.create_bucket(Bucket=name)
            if versioned:
                client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    yield make
    for name in made:
        try:
            empty_bucket(client, name)
        except Exception:
            pass


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    base = tmp_path_factory.mktemp("s3keys")
    ident = pyrage.x25519.Identity.generate()
    (base / "id.txt").write_text(f"{ident}\n")
    os.chmod(base / "id.txt", 0o600)
    return {"recipient": str(ident.to_public()), "identity": str(base / "id.txt")}


