"""Plant real backup sets (archive layer artifacts + manifests, verified by verify_artifact) on a fake clock."""

from __future__ import annotations

import io
import os
from datetime import datetime, timedelta, timezone

from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import (
    StreamProducer, artifact_name, verify_artifact, verify_verdict, write_artifact)
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.store import LocalStore
from ansible_collections.deploysafe.preflight.plugins.module_utils.retention.verified import make_record, write_record

NOW = datetime(2026, 12, 3, 6, 0, 0, tzinfo=timezone.utc)


def plant(directory, when: datetime, verified: bool = True, prefix: str = "nightly", subject: str = "app",
          mtime: datetime = None) -> str:
    """Write a real artifact+manifest dated `when` (manifest started_at and name stamp); with verified,
    run the real verification and write its record. Returns the artifact name."""
    name = artifact_name(prefix, subject, when)
    data = f"backup of {subject} at {when.isoformat()}\n".encode() * 50
    write_artifact(StreamProducer(io.BytesIO(data)), str(directory), name, level=1, threads=0,
                   clock=lambda: when.timestamp())
    path = os.path.join(str(directory), name)
    if verified:
        report = verify_artifact(path)
        assert report.ok, report.problems()
        write_record(LocalStore(str(directory)), name, make_record(report, verify_verdict(report), when))
    stamp = (mtime or when).timestamp()
    for suffix in ("", ".manifest.json", ".verified.json"):
        if os.path.exists(path + suffix):
            os.utime(path + suffix, (stamp, stamp))
    return name


def daily_timeline(directory, days: int, end: datetime = NOW - timedelta(hours=4), skip=(), unverified=()):
    """One backup a day at the hour of `end`, for `days` days ending at `end`; indexes count back from 0 = newest."""
    names = {}
    for back in range(days):
        if back in skip:
            continue
        names[back] = plant(directory, end - timedelta(days=back), verified=back not in unverified)
    return names


def upload_dir(client, bucket: str, prefix: str, directory) -> None:
    for name in sorted(os.listdir(str(directory))):
        with open(os.path.join(str(directory), name), "rb") as handle:
            client.put_object(Bucket=bucket, Key=prefix + name, Body=handle.read())


def s3_names(client, bucket: str, prefix: str):
    out = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"][len(prefix):] for o in page.get("Contents") or []]
    return sorted(out)
