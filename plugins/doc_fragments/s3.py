# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of the S3 modules (s3_backup, s3_restore, s3_verify, s3_scratch_bucket); they mirror
    # s3.client.s3_argument_spec().
    DOCUMENTATION = r"""
options:
  endpoint_url:
    description:
      - URL of an S3-compatible server (MinIO, Ceph RGW, Garage...), for example C(https://minio.example.com:9000).
      - Unset means AWS S3 in O(region).
      - Every upload carries the SHA-256 of its bytes (C(x-amz-checksum-sha256)), which the server checks and refuses
        on a mismatch, over HTTP as over HTTPS; the server must support these checksums (MinIO and AWS S3 do).
    type: str
    aliases: [s3_url]
  region:
    description: Region used to sign requests.
    type: str
    default: us-east-1
    aliases: [aws_region]
  access_key:
    description: Access key id. Unset values fall back to boto3's usual sources (environment, profile, instance role).
    type: str
    aliases: [aws_access_key_id]
  secret_key:
    description: Secret access key.
    type: str
    aliases: [aws_secret_access_key]
  session_token:
    description: Session token of temporary credentials.
    type: str
    aliases: [aws_session_token]
  ca_bundle:
    description: CA certificate bundle used to verify the server's TLS certificate.
    type: path
  validate_certs:
    description: Verify the server's TLS certificate. Turn off only for throw-away test servers.
    type: bool
    default: true
  path_style:
    description:
      - Address buckets as C(endpoint/bucket/key) (path style, what most S3-compatible servers expect) instead of
        C(bucket.endpoint/key) (virtual-hosted style, chosen automatically when false).
    type: bool
    default: true
  connect_timeout:
    description: Seconds to wait for a connection.
    type: int
    default: 10
  read_timeout:
    description: Seconds to wait for data on an open connection.
    type: int
    default: 60
  max_attempts:
    description: Attempts per request (botocore standard retry mode) before an error is reported.
    type: int
    default: 3
notes:
  - The client sends and checks checksum headers only when an operation requires them
    (C(request_checksum_calculation=when_required), C(response_checksum_validation=when_required)); newer botocore
    defaults are rejected by many S3-compatible servers. Integrity comes from the sha256 these modules compute
    while streaming every object, not from ETags (which are not content hashes for multipart uploads).
requirements:
  - boto3 (Python library)
"""

    # The same options nested under `s3`, for modules whose artifact location may be an s3:// URL
    # (pg_backup, backup_verify). A module may repeat `s3:` with only a `description:` naming its
    # option that holds the URL. ansible-test's yamllint needs literal strings here, so the text is
    # repeated; tests/unit/plugins/doc_fragments checks both copies against each other and the spec.
    NESTED = r"""
options:
  s3:
    description: S3 connection used when the artifact location is an C(s3://) URL (the same options as the S3 modules).
    type: dict
    suboptions:
      endpoint_url:
        description:
          - URL of an S3-compatible server (MinIO, Ceph RGW, Garage...), for example C(https://minio.example.com:9000).
          - Unset means AWS S3 in O(s3.region).
          - Every upload carries the SHA-256 of its bytes (C(x-amz-checksum-sha256)), which the server checks and refuses
            on a mismatch, over HTTP as over HTTPS; the server must support these checksums (MinIO and AWS S3 do).
        type: str
        aliases: [s3_url]
      region:
        description: Region used to sign requests.
        type: str
        default: us-east-1
        aliases: [aws_region]
      access_key:
        description: Access key id. Unset values fall back to boto3's usual sources (environment, profile, instance role).
        type: str
        aliases: [aws_access_key_id]
      secret_key:
        description: Secret access key.
        type: str
        aliases: [aws_secret_access_key]
      session_token:
        description: Session token of temporary credentials.
        type: str
        aliases: [aws_session_token]
      ca_bundle:
        description: CA certificate bundle used to verify the server's TLS certificate.
        type: path
      validate_certs:
        description: Verify the server's TLS certificate. Turn off only for throw-away test servers.
        type: bool
        default: true
      path_style:
        description:
          - Address buckets as C(endpoint/bucket/key) (path style, what most S3-compatible servers expect) instead of
            C(bucket.endpoint/key) (virtual-hosted style, chosen automatically when false).
        type: bool
        default: true
      connect_timeout:
        description: Seconds to wait for a connection.
        type: int
        default: 10
      read_timeout:
        description: Seconds to wait for data on an open connection.
        type: int
        default: 60
      max_attempts:
        description: Attempts per request (botocore standard retry mode) before an error is reported.
        type: int
        default: 3
notes:
  - The client sends and checks checksum headers only when an operation requires them
    (C(request_checksum_calculation=when_required), C(response_checksum_validation=when_required)); newer botocore
    defaults are rejected by many S3-compatible servers. Integrity comes from the sha256 these modules compute
    while streaming every object, not from ETags (which are not content hashes for multipart uploads).
requirements:
  - boto3 (Python library) when a location is an C(s3://) URL
"""
