"""TestEnv: starts named services in a run directory, records them in state.json, stops them all."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from deploysafe_testenv.process import ServiceError, pid_alive, stop_group

# name -> "module:Class"; imported lazily so `testenv status` does not pay for kubernetes & co.
SERVICES: Dict[str, str] = {
    "postgres": "deploysafe_testenv.services.postgres:PostgresService",
    # opt-in: PostgreSQL with WAL archiving on (pgBackRest tests); never started by default
    "postgres_archiving": "deploysafe_testenv.services.postgres:ArchivingPostgresService",
    "s3": "deploysafe_testenv.services.minio:MinioService",
    # opt-in: the same over HTTPS with a throwaway CA (pgBackRest's S3 repository)
    "s3_tls": "deploysafe_testenv.services.minio:TlsMinioService",
    "app": "deploysafe_testenv.services.sample_app:SampleAppService",
    "k8s": "deploysafe_testenv.services.k8s:KubernetesService",
    "prometheus": "deploysafe_testenv.services.prometheus:PrometheusService",
}
DEFAULT_SERVICES = ["postgres", "s3", "app"]


def default_cache_dir() -> Path:
    """Where built binaries live (MinIO, Kubernetes...); the Makefile owns the same path."""
    return Path(os.environ.get("DEPLOYSAFE_CACHE", Path.home() / ".cache" / "deploysafe-preflight"))


@dataclass
class ServiceInfo:
    name: str
    pids: List[int]
    ports: List[int]
    exports: Dict[str, str]          # shell variables a person or playbook can use
    data: Dict[str, object] = field(default_factory=dict)
    paths: List[str] = field(default_factory=list)  # directories outside the run dir, removed on stop


class Service:
    """One real server. Subclasses implement start() and return a ServiceInfo."""

    name = ""
    requires: tuple = ()

    def __init__(self, env: "TestEnv"):
        self.env = env
        self.dir = env.root / self.name
        self.dir.mkdir(parents=True, exist_ok=True)

    def start(self) -> ServiceInfo:
        raise NotImplementedError


class TestEnv:
    """A set of running services under one root directory."""

    __test__ = False  # not a pytest test class

    def __init__(self, root: Optional[Path] = None, *, attached: bool = True, cache_dir: Optional[Path] = None):
        self.owns_root = root is None
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="deploysafe-testenv-"))
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o711)  # services running as an unprivileged user must traverse it
        self.attached = attached
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.services: Dict[str, ServiceInfo] = {}
        self._load_state()

    # -- state -------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    def _load_state(self) -> None:
        if self.state_file.exists():
            raw = json.loads(self.state_file.read_text())
            self.services = {k: ServiceInfo(**v) for k, v in raw.get("services", {}).items()}

    def _save_state(self) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"services": {k: asdict(v) for k, v in self.services.items()}}, indent=2))
        os.replace(tmp, self.state_file)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, *names: str) -> List[ServiceInfo]:
        """Start the named services (and what they require) unless already running."""
        started = []
        for name in names:
            if name not in SERVICES:
                raise ServiceError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
            if name in self.services:
                continue
            module_name, cls_name = SERVICES[name].split(":")
            cls = getattr(importlib.import_module(module_name), cls_name)
            started += self.start(*cls.requires)
            try:
                info = cls(self).start()
            except ServiceError as exc:
                raise ServiceError(f"service {name!r} failed to start: {exc}") from None
            self.services[name] = info
            self._save_state()
            started.append(info)
        return started

    def stop(self, *names: str) -> None:
        """Stop the named services (all, in reverse start order, when none are named)."""
        for name in reversed(list(names or self.services)):
            info = self.services.pop(name, None)
            if info:
                for pid in reversed(info.pids):
                    stop_group(pid)
                for path in info.paths:
                    shutil.rmtree(path, ignore_errors=True)
        if self.state_file.parent.exists():
            self._save_state()

    def down(self) -> None:
        """Stop everything and delete the run directory."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def status(self) -> Dict[str, Dict[str, object]]:
        return {name: {"pids": info.pids, "alive": all(pid_alive(p) for p in info.pids), "ports": info.ports}
                for name, info in self.services.items()}

    def exports(self) -> Dict[str, str]:
        out: Dict[str, str] = {"DEPLOYSAFE_TESTENV_DIR": str(self.root)}
        for info in self.services.values():
            out.update(info.exports)
        return out

    def __getitem__(self, name: str) -> ServiceInfo:
        return self.services[name]

    def __enter__(self) -> "TestEnv":
        return self

    def __exit__(self, *exc) -> None:
        self.down()
