"""Pure pieces of the lean S3 request path: checksum encoding, error parsing, body length checks."""

from __future__ import annotations

import base64
import hashlib
import io
import sys

import botocore.exceptions as botoexc
import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.lean import (
    LeanBody, _error, checksum_header, responsive_threads)


def test_checksum_header_is_the_base64_of_the_digest():
    digest = hashlib.sha256(b"abc").digest()
    assert checksum_header(digest.hex()) == base64.b64encode(digest).decode()


class _Raw(io.BytesIO):
    released = False

    def release_conn(self):
        self.released = True


def test_body_checks_the_length_and_releases_only_a_finished_connection():
    raw = _Raw(b"0123456789")
    body = LeanBody(raw, 10)
    assert body.read(4) == b"0123" and body.read() == b"456789"
    body.close()
    assert raw.released
    short = LeanBody(_Raw(b"01234"), 10)
    assert short.read(5) == b"01234"
    with pytest.raises(botoexc.IncompleteReadError, match="5 read, but total bytes expected is 10"):
        short.read(5)
    half = _Raw(b"0123456789")
    LeanBody(half, 10).close()
    assert not half.released and half.closed


class _Resp:
    def __init__(self, status, body):
        self.status_code, self.content, self.headers = status, body, {"x-amz-request-id": "1"}


def test_errors_take_the_shape_botocore_gives_them():
    xml = b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
    assert _error(_Resp(404, xml))["Error"] == {"Code": "NoSuchKey", "Message": "The specified key does not exist."}
    assert _error(_Resp(403, b""))["Error"] == {"Code": "403", "Message": "Forbidden"}
    assert _error(_Resp(502, b"<html>bad gateway"))["Error"]["Code"] == "502"


def test_responsive_threads_restores_the_switch_interval():
    before = sys.getswitchinterval()
    with responsive_threads(0.001):
        assert sys.getswitchinterval() == pytest.approx(min(before, 0.001))
    assert sys.getswitchinterval() == before
