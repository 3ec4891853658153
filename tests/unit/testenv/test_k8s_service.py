"""KubernetesService refuses to start without its binaries and says how to build them."""

from __future__ import annotations

import pytest

from deploysafe_testenv import ServiceError, TestEnv


def test_missing_binaries_name_the_make_target(tmp_path):
    env = TestEnv(tmp_path / "env", cache_dir=tmp_path / "empty-cache")
    try:
        with pytest.raises(ServiceError, match=r"missing in .*empty-cache/bin: etcd, kube-apiserver.*make k8s-bins"):
            env.start("k8s")
        assert env.services == {}
    finally:
        env.down()
