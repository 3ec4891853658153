# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lean request path for the per-object GetObject / PutObject / UploadPart calls.

botocore spends 1.5-2.5 ms of CPU per request in its event hooks, endpoint rules, serializer and
parser (benchmarks/s3/README.md); with thousands of small objects that, not the network, is the limit.
LeanS3Client keeps botocore for everything except those three calls, and for them:

- signs with botocore's own SigV4 signer (S3SigV4Auth, fresh frozen credentials each time) with an
  unsigned payload: the body's integrity is carried by x-amz-checksum-sha256 (our own sha256, which
  the server checks and refuses on mismatch), on plain HTTP as on TLS;
- sends through the client's own botocore HTTP session (same urllib3 pools, TLS verification, CA bundle,
  proxies and timeouts as every other call of that client);
- raises the same exceptions botocore would (ClientError with Error.Code/Message, EndpointConnectionError,
  ReadTimeoutError...), so describe() words them the same; retries are bounded by max_attempts.

Calls with arguments outside that small set, and clients for AWS itself (virtual-hosted buckets,
region redirects), go through botocore unchanged.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import http.client
import random
import sys
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional
from urllib.parse import quote
from xml.etree import ElementTree

try:
    import botocore.exceptions as botoexc
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
except ImportError:  # make_client reports the missing library first
    botoexc = None
    S3SigV4Auth = object
    AWSRequest = None

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
RETRY_STATUS = (500, 502, 503, 504)
RETRY_CODES = ("SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "RequestTimeTooSkewed")
META = "x-amz-meta-"
GET_ARGS = frozenset(("Bucket", "Key", "VersionId", "IfMatch", "Range"))
PUT_ARGS = frozenset(("Bucket", "Key", "Body", "ContentType", "Metadata", "ChecksumSHA256"))
PART_ARGS = frozenset(("Bucket", "Key", "Body", "UploadId", "PartNumber", "ChecksumSHA256"))


class _UnsignedPayloadAuth(S3SigV4Auth):  # type: ignore[misc,valid-type]
    """SigV4 over the headers with UNSIGNED-PAYLOAD: the body is covered by x-amz-checksum-sha256."""

    def _should_sha256_sign_payload(self, request) -> bool:
        return False


# Python hands the GIL to a waiting thread only after this interval (default 5 ms): a download thread
# whose response has arrived waits that long while another thread runs. With many small objects that
# wait, not the network or the CPU, sets the pace; 1 ms gave ~30 % more objects/s at the same CPU per
# object (benchmarks/s3/README.md).
SWITCH_INTERVAL = 0.001


@contextmanager
def responsive_threads(interval: float = SWITCH_INTERVAL) -> Iterator[None]:
    """Run the body with a shorter GIL switch interval (restored afterwards)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, interval))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def checksum_header(sha256_hex: str) -> str:
    """The base64 form S3 expects in x-amz-checksum-sha256 / ChecksumSHA256 for a hex sha256."""
    return base64.b64encode(binascii.unhexlify(sha256_hex)).decode("ascii")


class LeanBody:
    """A GET response body: read(n) / close() like botocore's StreamingBody, with the length checked."""

    def __init__(self, raw, length: Optional[int]) -> None:
        self._raw, self._length, self._left = raw, length, length

    def read(self, n: Optional[int] = -1) -> bytes:
        data = self._raw.read() if n is None or n < 0 else self._raw.read(n)
        if self._left is not None:
            self._left -= len(data)
            if (not data and self._left > 0 and n != 0) or self._left < 0:
                raise botoexc.IncompleteReadError(actual_bytes=self._length - self._left, expected_bytes=self._length)
        return data

    def close(self) -> None:
        if self._left == 0:
            self._raw.release_conn()
        else:  # not read to the end (or no length to know it): the connection cannot be reused
            self._raw.close()


class LeanS3Client:
    """A boto3 S3 client whose get_object / put_object / upload_part take the lean path (see above);
    every other attribute is the boto3 client's."""

    def __init__(self, client, credentials, endpoint_url: str, region: str, max_attempts: int) -> None:
        self._client = client
        self._credentials = credentials
        self._endpoint = endpoint_url.rstrip("/")
        self._region = region
        self._attempts = max(1, max_attempts)
        self._http = client._endpoint.http_session  # pylint: disable=protected-access

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    # -- the three hot calls ----------------------------------------------------------------------
    def get_object(self, **kwargs: Any) -> Dict[str, Any]:
        if not GET_ARGS.issuperset(kwargs):
            return self._client.get_object(**kwargs)
        headers = {}
        if "IfMatch" in kwargs:
            headers["If-Match"] = kwargs["IfMatch"]
        if "Range" in kwargs:
            headers["Range"] = kwargs["Range"]
        query = {"versionId": kwargs["VersionId"]} if kwargs.get("VersionId") else {}
        url = self._url(kwargs["Bucket"], kwargs["Key"], query)
        resp = self._send("GetObject", "GET", url, headers, None, stream=True)
        length = _int(resp.headers.get("Content-Length"))
        out = _common(resp.headers, resp.status_code)
        out.update(Body=LeanBody(resp.raw, length), ContentLength=length if length is not None else 0,
                   LastModified=_date(resp.headers.get("Last-Modified")), ContentType=resp.headers.get("Content-Type"),
                   Metadata=_metadata(resp.headers))
        for header, name in (("Content-Range", "ContentRange"), ("x-amz-version-id", "VersionId")):
            if header in resp.headers:
                out[name] = resp.headers[header]
        return out

    def put_object(self, **kwargs: Any) -> Dict[str, Any]:
        """PutObject; Body may also be a tuple of bytes pieces, sent one after the other (no joined copy)."""
        body = kwargs.get("Body")
        if not PUT_ARGS.issuperset(kwargs) or not isinstance(body, (bytes, tuple)) or not kwargs.get("ChecksumSHA256"):
            if isinstance(body, tuple):
                kwargs["Body"] = b"".join(body)
            return self._client.put_object(**kwargs)
        headers = {"x-amz-checksum-sha256": kwargs["ChecksumSHA256"]}
        if isinstance(body, tuple):
            headers["Content-Length"] = str(sum(len(piece) for piece in body))
        if kwargs.get("ContentType"):
            headers["Content-Type"] = kwargs["ContentType"]
        for name, value in (kwargs.get("Metadata") or {}).items():
            headers[META + name] = value
        resp = self._send("PutObject", "PUT", self._url(kwargs["Bucket"], kwargs["Key"], {}), headers, kwargs["Body"])
        return _common(resp.headers, resp.status_code)

    def upload_part(self, **kwargs: Any) -> Dict[str, Any]:
        if not PART_ARGS.issuperset(kwargs) or not isinstance(kwargs.get("Body"), bytes) or not kwargs.get("ChecksumSHA256"):
            return self._client.upload_part(**kwargs)
        query = {"partNumber": str(kwargs["PartNumber"]), "uploadId": kwargs["UploadId"]}
        headers = {"x-amz-checksum-sha256": kwargs["ChecksumSHA256"]}
        resp = self._send("UploadPart", "PUT", self._url(kwargs["Bucket"], kwargs["Key"], query), headers, kwargs["Body"])
        out = _common(resp.headers, resp.status_code)
        out["ChecksumSHA256"] = resp.headers.get("x-amz-checksum-sha256", kwargs["ChecksumSHA256"])
        return out

    # -- plumbing ------------------------------------------------------------------------------------
    def _url(self, bucket: str, key: str, query: Dict[str, str]) -> str:
        url = f"{self._endpoint}/{quote(bucket, safe='')}/{quote(key, safe='/~')}"
        if query:
            url += "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items()))
        return url

    def _send(self, operation: str, method: str, url: str, headers: Dict[str, str], body: Any,
              stream: bool = False):
        """Sign and send; retry connection errors and 5xx/throttling up to max_attempts; raise a
        ClientError like botocore's for any other status >= 300."""
        for attempt in range(1, self._attempts + 1):
            # pieces (a tuple) are not given to AWSRequest, which only knows one body; the payload is unsigned
            # and Content-Length is set, so urllib3 sends them in turn
            request = AWSRequest(method=method, url=url, headers=dict(headers),
                                 data=None if isinstance(body, tuple) else body)
            _UnsignedPayloadAuth(self._credentials.get_frozen_credentials(), "s3", self._region).add_auth(request)
            prepared = request.prepare()
            prepared.stream_output = stream
            if isinstance(body, tuple):
                prepared.body = body
            try:
                resp = self._http.send(prepared)
            except (botoexc.EndpointConnectionError, botoexc.ConnectionClosedError, botoexc.ReadTimeoutError,
                    botoexc.ConnectTimeoutError):
                if attempt == self._attempts:
                    raise
                _backoff(attempt)
                continue
            if resp.status_code < 300:
                return resp
            error = _error(resp)
            if attempt < self._attempts and (resp.status_code in RETRY_STATUS or error["Error"]["Code"] in RETRY_CODES):
                _backoff(attempt)
                continue
            raise botoexc.ClientError(error, operation)
        raise AssertionError("unreachable")  # the loop returns or raises


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(20.0, 0.05 * 2 ** attempt)))  # like botocore's standard mode, shorter


def _error(resp) -> Dict[str, Any]:
    """botocore's error shape from an S3 error response (XML body, or none for HEAD-like answers)."""
    body = resp.content  # reads and releases the connection
    code, message = str(resp.status_code), http.client.responses.get(resp.status_code, "")
    if body:
        try:
            root = ElementTree.fromstring(body)
            code = root.findtext("Code") or code
            message = root.findtext("Message") or message
        except ElementTree.ParseError:
            pass
    return {"Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": resp.status_code, "HTTPHeaders": dict(resp.headers)}}


def _common(headers, status: int) -> Dict[str, Any]:
    out: Dict[str, Any] = {"ResponseMetadata": {"HTTPStatusCode": status}}
    if "ETag" in headers:
        out["ETag"] = headers["ETag"]
    return out


def _metadata(headers) -> Dict[str, str]:
    # like botocore's header map: every x-amz-meta-* header, the name after the prefix as sent
    return {name[len(META):]: value for name, value in headers.items() if name.lower().startswith(META)}


def _int(value: Optional[str]) -> Optional[int]:
    return int(value) if value is not None and value.isdigit() else None


def _date(value: Optional[str]):
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return value
