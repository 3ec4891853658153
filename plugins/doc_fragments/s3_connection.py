# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The nested O(s3) connection option of modules that also work on local paths (backup_verify,
    # backup_retention; pg_backup could use it too). Suboptions mirror s3.client.s3_argument_spec().
    DOCUMENTATION = r"""
options:
  s3:
    description: S3 connection used for an C(s3://) path or location (the same options as the S3 modules).
    type: dict
    suboptions:
      endpoint_url:
        description:
          - URL of an S3-compatible server (MinIO, Ceph RGW, Garage...), for example C(https://minio.example.com:9000).
          - Unset means AWS S3 in O(s3.region).
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
"""
