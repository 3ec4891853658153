"""The harness service itself: a clean stop, and a failed start that reports and cleans up.
These start their own clusters (not the session one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploysafe_testenv import ServiceError, TestEnv
from deploysafe_testenv.env import default_cache_dir
from deploysafe_testenv.process import pid_alive, port_is_free
from deploysafe_testenv.services.k8s import BINARIES


def _processes_mentioning(text: str):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append((int(entry.name), cmdline))
    return found


def test_teardown_stops_every_process_and_frees_every_port(cluster, tmp_path):
    env = TestEnv(tmp_path / "env")
    try:
        info = env.start("k8s")[0]
        assert len(info.pids) == 5 and len(set(info.ports)) == 6
        assert not [p for p in info.ports if port_is_free(p)]  # all six are listening
        assert _processes_mentioning(str(env.root))
    finally:
        env.down()
    assert not [p for p in info.pids if pid_alive(p)]
    assert not _processes_mentioning(str(env.root))
    assert [p for p in info.ports if not port_is_free(p)] == []
    assert not env.root.exists()


def test_failed_start_reports_every_component_log_and_stops_the_rest(cluster, tmp_path):
    # Planted defect: the real kube-apiserver, started with a flag it does not know.
    bindir = tmp_path / "cache" / "bin"
    bindir.mkdir(parents=True)
    real = default_cache_dir() / "bin"
    for name in BINARIES:
        (bindir / name).symlink_to(real / name)
    (bindir / "kube-apiserver").unlink()
    wrapper = bindir / "kube-apiserver"
    wrapper.write_text(f'#!/bin/sh\nexec {real / "kube-apiserver"} --no-such-flag "$@"\n')
    wrapper.chmod(0o755)

    env = TestEnv(tmp_path / "env", cache_dir=tmp_path / "cache")
    try:
        with pytest.raises(ServiceError) as err:
            env.start("k8s")
        message = str(err.value)
        assert "kube-apiserver /readyz exited" in message
        assert "unknown flag: --no-such-flag" in message
        assert "--- etcd: last lines of" in message and "--- kube-apiserver: last lines of" in message
        assert not _processes_mentioning(str(env.root))  # etcd was started, then stopped
    finally:
        env.down()

