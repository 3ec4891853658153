#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_backup
short_description: Back up a PostgreSQL database with pg_dump, zstd, optional age encryption and a manifest
version_added: 0.1.0
description:
  - Runs the real C(pg_dump) of the server's major version inside an exported REPEATABLE READ snapshot, and in
    that same snapshot computes each table's row count and content hash in SQL (for M(deploysafe.preflight.pg_restore_verify)).
  - Streams the dump through zstd and, with O(encrypt_recipients), age encryption into
    C(<dest>/<prefix>-<db>-<UTC YYYYmmddTHHMMSSZ>.dump.zst[.age]), computing sha256 of the stored bytes and of the
    plaintext on the way; nothing is held in memory.
  - Publishes atomically (C(.partial), fsync, rename) and writes C(<artifact>.manifest.json) beside it. Any non-zero
    exit or error on C(pg_dump)'s stderr fails the task and leaves no artifact and no manifest.
options:
  dest:
    description:
      - Existing directory the artifact and its manifest are written to (mode 0600).
      - Or an S3 prefix C(s3://bucket/prefix/) (connection in O(s3)) - the backup is written to a private
        staging directory in O(staging_dir), verified there (sizes, sha256, per-block hashes, and the plaintext
        when not encrypted), then the artifact is uploaded and its manifest last, so a prefix without the manifest
        is incomplete. The staging directory is always removed; on a failed upload the uploaded keys are deleted.
    type: path
    required: true
  staging_dir:
    description: Directory for the local staging copy when O(dest) is an S3 prefix; default the system temporary directory.
    type: path
  s3:
    description: S3 connection used when O(dest) is C(s3://...) (same options as the S3 modules).
  prefix:
    description: First part of the artifact name.
    type: str
    default: pg
  format:
    description:
      - C(directory) (the default) runs C(pg_dump -Fd -Z0 --jobs) into a private temporary
        directory inside O(dest) and publishes it as one tar, C(<prefix>-<db>-<stamp>.dir.tar.zst[.age]); the
        temporary directory is always removed, on failure too. The table files are fingerprinted while pg_dump
        writes them and the tar is compressed as it is read, so this is the cheapest format with content
        fingerprints (measured in C(benchmarks/pg_backup)), and C(pg_restore --jobs) restores it in parallel
        directly. It needs free space in O(dest) for the uncompressed dump (about the size of the table
        data) while it runs; check mode reports it.
      - C(custom) streams C(pg_dump -Fc) straight into zstd with no temporary copy (for a destination with little
        free space; it costs more CPU, because the per-row framing of the custom format is stripped in Python),
        C(plain) is SQL replayed with psql.
      - Artifacts of every format stay restorable and verifiable, because the manifest records the format.
    type: str
    choices: [custom, plain, directory]
    default: directory
  jobs:
    description: Parallel C(pg_dump) jobs for O(format=directory), all in the same exported snapshot.
    type: int
    default: 2
  schema_only:
    description: Dump only the schema (no data; restore-verify then compares table presence only).
    type: bool
    default: false
  data_only:
    description: Dump only the data.
    type: bool
    default: false
  include_tables:
    description: Exact table names (C(schema.table), or C(table) for C(public)) to dump; default all.
    type: list
    elements: str
    default: []
  exclude_tables:
    description: Exact table names not to dump.
    type: list
    elements: str
    default: []
  include_schemas:
    description: Exact schema names to dump; default all.
    type: list
    elements: str
    default: []
  exclude_schemas:
    description: Exact schema names not to dump.
    type: list
    elements: str
    default: []
  compression_level:
    description: zstd level (1 fastest .. 19 smallest).
    type: int
    default: 3
  compression_threads:
    description: zstd worker threads; C(-1) means one per CPU, C(0) compresses in the calling thread.
    type: int
    default: -1
  content_hash:
    description:
      - How each table's content is fingerprinted at backup time, for M(deploysafe.preflight.pg_restore_verify) and
        M(deploysafe.preflight.pg_database_verify).
      - C(copy_sha256) (custom and directory formats) reads the data once - the sha256 and line count of each table's
        COPY text are taken from pg_dump's own output (the C(<dumpId>.dat) files of a directory dump, or the custom
        format's stream on its way to zstd; both give the same fingerprints), and verification hashes
        C(COPY table TO STDOUT) of the restored table the same way. Both sides print rows with the same session
        settings (C(TimeZone=UTC), C(bytea_output=hex), C(DateStyle=ISO), C(IntervalStyle=postgres),
        C(extra_float_digits=3), the dump's client encoding and C(lc_monetary)), so the server's or role's defaults
        do not matter. Across major versions the text is the same for every type except C(real)/C(double precision)
        (and arrays or composites holding them) between a server older than 12 and 12 or newer (shortest-exact float
        output came in 12), and types from extensions whose output function changes. The comparison relies on rows
        being restored in dump order, which C(pg_restore) does; a database filled by other means (logical
        replication, C(CLUSTER)) may hold the same rows in another order and then differs. A plain-format backup
        falls back to C(md5).
      - C(md5) sums the first 64 bits of md5 of each row's text, computed in SQL in the dump's snapshot (a second
        read of every row); order-independent and comparable across major versions.
      - C(hash_record) sums C(hash_record_extended) of each row (PostgreSQL 14+), 3-5 times cheaper than C(md5);
        comparable only on the same major version; tables with columns whose hash is not value-based (enums...)
        use C(md5).
      - C(count) records row counts only.
      - Manifests written with any of these remain verifiable; each table records the method it was hashed with.
    type: str
    choices: [copy_sha256, md5, hash_record, count]
    default: copy_sha256
  hash_jobs:
    description:
      - Connections, all in the dump's snapshot, that compute the table hashes in SQL while pg_dump runs (O(content_hash)
        other than C(copy_sha256)); tables over 64 MB are split in block ranges among them (PostgreSQL 14+).
    type: int
    default: 2
  encrypt_recipients:
    description: age public keys (C(age1...) or C(ssh-ed25519 ...)); when set the artifact is encrypted to all of them.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - deploysafe.preflight.postgres
  - deploysafe.preflight.postgres.client_programs
  - deploysafe.preflight.verdict
  - deploysafe.preflight.s3.nested
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Connects, checks SELECT privileges, the pg_dump version, the destination and its free space (fails
      below a third of the table data size, a cautious floor for the compressed dump), and reports the file it would
      write; writes nothing. A destination that does not exist yet (a first run) is checked on its nearest existing
      parent directory and named in the plan's C(notes). The verdict is C(fail) when a problem was found, else
      C(pending), since a plan proves nothing.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Parallel directory-format backup uploaded to an S3 prefix (manifest uploaded last)
  deploysafe.preflight.pg_backup:
    host: db.internal
    user: backup
    password: "{{ vault_backup_password }}"
    dbname: app
    format: directory
    jobs: 4
    dest: s3://backups/pg/
    s3:
      endpoint_url: https://minio.internal:9000
      access_key: "{{ vault_s3_access_key }}"
      secret_key: "{{ vault_s3_secret_key }}"

- name: Back up the app database, encrypted to the backup key
  deploysafe.preflight.pg_backup:
    host: db.internal
    user: backup
    password: "{{ vault_backup_password }}"
    dbname: app
    dest: /var/backups/pg
    prefix: nightly
    encrypt_recipients: ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]
  register: backup
"""

RETURN = r"""
s3:
  description: Where the artifact and manifest were uploaded when O(dest) is an S3 prefix (else null).
  returned: success and not check mode
  type: dict
  sample: {"bucket": "backups", "artifact_key": "pg/nightly-app-20261125T140000Z.dump.zst.age",
           "manifest_key": "pg/nightly-app-20261125T140000Z.dump.zst.age.manifest.json",
           "url": "s3://backups/pg/nightly-app-20261125T140000Z.dump.zst.age",
           "manifest_url": "s3://backups/pg/nightly-app-20261125T140000Z.dump.zst.age.manifest.json",
           "endpoint": "https://minio.internal:9000"}
path:
  description: The published artifact (an C(s3://) URL when O(dest) is an S3 prefix).
  returned: success and not check mode
  type: str
  sample: /var/backups/pg/nightly-app-20261125T140000Z.dump.zst.age
manifest_path:
  description: The manifest beside the artifact (an C(s3://) URL when O(dest) is an S3 prefix).
  returned: success and not check mode
  type: str
  sample: /var/backups/pg/nightly-app-20261125T140000Z.dump.zst.age.manifest.json
manifest:
  description: The manifest (sizes, both sha256s, compression, recipients' fingerprints, server version, tables).
  returned: success and not check mode
  type: dict
  sample: {"artifact": {"bytes": 45936, "sha256": "0821ed3e..."}, "source": {"tables": {"public.orders": {"rows": 3000}}}}
stored_bytes:
  description: Size of the artifact.
  returned: success and not check mode
  type: int
  sample: 45936
plaintext_bytes:
  description: Size of the dump before compression and encryption.
  returned: success and not check mode
  type: int
  sample: 311866
sha256:
  description: sha256 of the artifact's bytes.
  returned: success and not check mode
  type: str
  sample: 0821ed3ea9ce63f166232451ee0bdd5c3603189d37672dee7be315a31ce350ff
plaintext_sha256:
  description: sha256 of the dump itself.
  returned: success and not check mode
  type: str
  sample: 5f0c7a3c9e0d6f8b2a1e4d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a3928
duration:
  description: Seconds from the start of pg_dump to the published manifest.
  returned: success and not check mode
  type: float
  sample: 0.81
throughput:
  description: Plaintext MB per second.
  returned: success and not check mode
  type: float
  sample: 380.2
warnings_pg_dump:
  description: Warning lines pg_dump printed (not errors).
  returned: success and not check mode
  type: list
  elements: str
  sample: []
plan:
  description: In check mode, what would be written and the problems found.
  returned: check mode
  type: dict
  sample: {"would_write": "/var/backups/pg/nightly-app-20261125T140000Z.dump.zst", "tables": 5, "problems": [],
           "notes": []}
verdict:
  description:
    - Evidence contract (status, summary, evidence with the artifact, manifest and measurements).
    - C(pending) when the dump holds no table (empty database, or filters that leave nothing) and in check mode.
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "backup nightly-app-20261125T140000Z.dump.zst.age written",
           "evidence": {"artifacts": [], "findings": {"tables": 5}, "measurements": []}}
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts
from ansible_collections.deploysafe.preflight.plugins.module_utils.archive import ArchiveError
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg import PgError
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.args import postgres_argument_spec
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.backup import (
    BackupOptions, backup_verdict, plan_backup, plan_verdict, run_backup)
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.connection import ConnParams
from ansible_collections.deploysafe.preflight.plugins.module_utils.pg.s3dest import backup_to_s3, is_s3_url, parse_s3_url
from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.client import S3Conn, s3_argument_spec


def main():
    spec = postgres_argument_spec()
    spec.update(
        dest=dict(type="path", required=True),
        staging_dir=dict(type="path"),
        s3=dict(type="dict", options=s3_argument_spec()),
        prefix=dict(type="str", default="pg"),
        format=dict(type="str", choices=["custom", "plain", "directory"], default="directory"),
        jobs=dict(type="int", default=2),
        schema_only=dict(type="bool", default=False),
        data_only=dict(type="bool", default=False),
        include_tables=dict(type="list", elements="str", default=[]),
        exclude_tables=dict(type="list", elements="str", default=[]),
        include_schemas=dict(type="list", elements="str", default=[]),
        exclude_schemas=dict(type="list", elements="str", default=[]),
        compression_level=dict(type="int", default=3),
        compression_threads=dict(type="int", default=-1),
        encrypt_recipients=dict(type="list", elements="str", default=[]),
        content_hash=dict(type="str", choices=["copy_sha256", "md5", "hash_record", "count"], default="copy_sha256"),
        hash_jobs=dict(type="int", default=2),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           mutually_exclusive=[("schema_only", "data_only")])
    stamp_module_verdicts(module, "pg_backup")
    p = module.params
    to_s3 = is_s3_url(p["dest"])
    requires(module, "psycopg", "zstandard", "pyrage" if p["encrypt_recipients"] else None, "boto3" if to_s3 else None)
    opts = BackupOptions(dest=p["dest"], prefix=p["prefix"], format=p["format"], schema_only=p["schema_only"],
                         data_only=p["data_only"], include_tables=p["include_tables"],
                         exclude_tables=p["exclude_tables"], include_schemas=p["include_schemas"],
                         exclude_schemas=p["exclude_schemas"], compression_level=p["compression_level"],
                         compression_threads=p["compression_threads"], encrypt_recipients=p["encrypt_recipients"],
                         content_hash=p["content_hash"], hash_jobs=max(1, p["hash_jobs"]), jobs=max(1, p["jobs"]),
                         bindir=p["bindir"])
    params = ConnParams.from_params(p)
    location = None
    try:
        if to_s3:
            bucket, prefix = parse_s3_url(opts.dest)
        if module.check_mode:
            staged = BackupOptions(**{**opts.__dict__, "dest": p["staging_dir"] or tempfile.gettempdir()})
            plan = plan_backup(params, staged if to_s3 else opts)
            if to_s3:
                name = os.path.basename(plan["would_write"])
                plan.update(would_write=f"s3://{bucket}/{prefix}{name}",
                            manifest=f"s3://{bucket}/{prefix}{name}.manifest.json", staging_dir=staged.dest)
            verdict = plan_verdict(plan)
            if plan["problems"]:
                module.fail_json(msg="; ".join(plan["problems"]), plan=plan, verdict=verdict)
            module.exit_json(changed=True, plan=plan, verdict=verdict)
        if to_s3:
            result, location, verdict = backup_to_s3(params, opts, S3Conn.from_params(p["s3"] or {}), run_backup,
                                                     staging_dir=p["staging_dir"])
        else:
            result = run_backup(params, opts)
            verdict = backup_verdict(result)
    except (PgError, ArchiveError) as exc:
        module.fail_json(msg=f"pg_backup of {params.dbname or 'default database'} to {opts.dest} failed: {exc}")
    module.exit_json(changed=True, path=result.path, manifest_path=result.manifest_path, manifest=result.manifest,
                     stored_bytes=result.stored_bytes, plaintext_bytes=result.plaintext_bytes, sha256=result.sha256,
                     plaintext_sha256=result.plaintext_sha256, duration=result.duration_s,
                     throughput=result.throughput_mb_s, warnings_pg_dump=result.warnings, s3=location,
                     verdict=verdict)


if __name__ == "__main__":
    main()
