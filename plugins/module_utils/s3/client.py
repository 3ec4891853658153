# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""boto3 client for AWS and S3-compatible servers, the shared argument spec, and error wording."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from . import S3Error
from .lean import LeanS3Client

try:
    import boto3
    import botocore.exceptions as botoexc
    from botocore.config import Config
except ImportError:  # modules report missing_required_lib
    boto3 = None
    botoexc = None
    Config = None


def s3_argument_spec() -> Dict[str, Any]:
    """Connection options shared by every S3 module (documented in the s3 doc fragment)."""
    return dict(
        endpoint_url=dict(type="str", aliases=["s3_url"]),
        region=dict(type="str", default="us-east-1", aliases=["aws_region"]),
        access_key=dict(type="str", no_log=True, aliases=["aws_access_key_id"]),
        secret_key=dict(type="str", no_log=True, aliases=["aws_secret_access_key"]),
        session_token=dict(type="str", no_log=True, aliases=["aws_session_token"]),
        ca_bundle=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        path_style=dict(type="bool", default=True),
        connect_timeout=dict(type="int", default=10),
        read_timeout=dict(type="int", default=60),
        max_attempts=dict(type="int", default=3),
    )


@dataclass
class S3Conn:
    endpoint_url: Optional[str] = None
    region: str = "us-east-1"
    access_key: Optional[str] = None
    secret_key: Optional[str] = None
    session_token: Optional[str] = None
    ca_bundle: Optional[str] = None
    validate_certs: bool = True
    path_style: bool = True
    connect_timeout: int = 10
    read_timeout: int = 60
    max_attempts: int = 3
    max_pool: int = 16

    @classmethod
    def from_params(cls, params: Dict[str, Any]) -> "S3Conn":
        names = ("endpoint_url", "region", "access_key", "secret_key", "session_token", "ca_bundle",
                 "validate_certs", "path_style", "connect_timeout", "read_timeout", "max_attempts")
        return cls(**{n: params[n] for n in names if n in params and params[n] is not None})

    @property
    def where(self) -> str:
        return self.endpoint_url or f"AWS S3 ({self.region})"


def make_client(conn: S3Conn, pool: int = 0, lean: bool = True):
    """A boto3 S3 client with at least `pool` pooled connections (a worker may hold two); for an
    S3-compatible endpoint with path-style buckets, wrapped so that the per-object GET/PUT calls take
    the lean path (lean.py) unless lean is False.

    Checksums only when required: newer botocore otherwise sends CRC headers that many S3-compatible
    servers reject; integrity comes from the sha256 computed while streaming anyway."""
    if boto3 is None:
        raise S3Error("the Python library boto3 is required")
    config = Config(
        s3={"addressing_style": "path" if conn.path_style else "auto"},
        retries={"max_attempts": conn.max_attempts, "mode": "standard"},
        connect_timeout=conn.connect_timeout, read_timeout=conn.read_timeout,
        max_pool_connections=max(conn.max_pool, pool),
        request_checksum_calculation="when_required", response_checksum_validation="when_required",
        # our own calls build their parameters; skipping botocore's re-validation saves CPU per request
        parameter_validation=False,
    )
    verify: Any = conn.validate_certs
    if conn.validate_certs and conn.ca_bundle:
        verify = conn.ca_bundle
    session = boto3.session.Session(aws_access_key_id=conn.access_key, aws_secret_access_key=conn.secret_key,
                                    aws_session_token=conn.session_token, region_name=conn.region)
    client = session.client("s3", endpoint_url=conn.endpoint_url, verify=verify, config=config)
    credentials = session.get_credentials()
    if not lean or not conn.endpoint_url or not conn.path_style or credentials is None \
            or getattr(getattr(client, "_endpoint", None), "http_session", None) is None:
        # AWS itself (virtual-hosted buckets, region redirects) and anonymous access stay on botocore
        return client
    return LeanS3Client(client, credentials, conn.endpoint_url, client.meta.region_name or conn.region,
                        conn.max_attempts)


def error_code(exc: BaseException) -> Optional[str]:
    """The S3 error code of a ClientError (e.g. NoSuchBucket), else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


_HINTS = {
    "InvalidAccessKeyId": "the access key is not known to the server (wrong credentials)",
    "SignatureDoesNotMatch": "the secret key does not match the access key (wrong credentials)",
    "AccessDenied": "access denied for these credentials",
    "NoSuchBucket": "the bucket does not exist",
    "404": "not found",
    "403": "access denied (wrong credentials or missing permission)",
    "PreconditionFailed": "the object changed (ETag no longer matches)",
    "NoSuchVersion": "that object version no longer exists",
}


def describe(exc: BaseException, action: str, where: str) -> str:
    """One readable line for any boto/botocore/network error: action, location, cause. No secrets."""
    code = error_code(exc)
    if code is not None:
        hint = _HINTS.get(code, "")
        message = ((getattr(exc, "response", {}) or {}).get("Error") or {}).get("Message") or ""
        return f"{action} {where} failed: {code}" + (f" ({hint})" if hint else "") + (f": {message}" if message else "")
    if botoexc is not None and isinstance(exc, botoexc.NoCredentialsError):
        return f"{action} {where} failed: no credentials (set access_key/secret_key or the AWS environment)"
    if botoexc is not None and isinstance(exc, (botoexc.EndpointConnectionError, botoexc.ConnectionClosedError)):
        return f"{action} {where} failed: the endpoint is unreachable or closed the connection ({exc})"
    if botoexc is not None and isinstance(exc, botoexc.BotoCoreError):
        return f"{action} {where} failed: {exc}"
    return f"{action} {where} failed: {type(exc).__name__}: {exc}"


def is_boto_error(exc: BaseException) -> bool:
    """Errors that come from talking to S3 (including a connection dropped mid-body)."""
    if botoexc is not None and isinstance(exc, (botoexc.ClientError, botoexc.BotoCoreError)):
        return True
    try:
        import urllib3.exceptions as u3
        if isinstance(exc, (u3.HTTPError,)):
            return True
    except ImportError:
        pass
    return isinstance(exc, (ConnectionError, TimeoutError))


def check_bucket(client, bucket: str, where: str) -> None:
    """Raise S3Error with a clear cause unless bucket exists and these credentials can reach it."""
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:
        if not is_boto_error(exc):
            raise
        code = error_code(exc)
        if code in ("404", "NoSuchBucket"):
            raise S3Error(f"bucket {bucket!r} does not exist at {where}") from None
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            # HEAD responses carry no body: ask again with a GET to learn which credential problem it is.
            try:
                client.list_objects_v2(Bucket=bucket, MaxKeys=1)
            except Exception as exc2:
                if is_boto_error(exc2):
                    raise S3Error(describe(exc2, "access to bucket", f"{bucket!r} at {where}")) from None
                raise
        raise S3Error(describe(exc, "access to bucket", f"{bucket!r} at {where}")) from None


def prefix_is_empty(client, bucket: str, prefix: str) -> Optional[str]:
    """None when no object exists under prefix, else the first key found."""
    resp = client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    contents = resp.get("Contents") or []
    return contents[0]["Key"] if contents else None


def failure_message(exc: BaseException, action: str, where: str) -> Optional[str]:
    """The fail_json message for an expected failure (S3Error, ArchiveError, S3/network errors); None for
    bugs, which should keep their traceback."""
    from ..archive import ArchiveError
    if isinstance(exc, (S3Error, ArchiveError)):
        return f"{action} failed: {exc}"
    if is_boto_error(exc):
        return describe(exc, action, where)
    return None
