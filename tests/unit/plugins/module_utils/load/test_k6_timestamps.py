import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.load.k6 import _ts


@pytest.mark.parametrize("text, expected", [
    ("2026-11-25T14:41:18Z", 1795617678.0),
    ("2026-11-25T14:41:18.93963Z", 1795617678.93963),          # fewer than 6 fraction digits
    ("2026-11-25T14:41:18.123456789Z", 1795617678.123456),     # nanoseconds, cut to microseconds
    ("2026-11-25T15:41:18.5+01:00", 1795617678.5),
])
def test_k6_timestamps_parse(text, expected):
    assert _ts(text) == pytest.approx(expected, abs=1e-6)


def test_k6_timestamp_garbage_is_an_error():
    with pytest.raises(ValueError):
        _ts("yesterday")
