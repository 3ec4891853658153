"""Assemble an OCI archive of the sample service's application layer, as its Containerfile would add it.

No container engine runs on our machines, so the demo and tests build the image with tarfile: one
layer with the app under /app and a config that mirrors the Containerfile (user, env, healthcheck,
OCI labels). The base image's layers are not included.

    python tests/sample_app/build_image.py OUT_DIR   # prints the archive path
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "unit/plugins/module_utils/image"))
from ocibuild import build, default_config, layer_bytes  # noqa: E402

APP_FILES = ["requirements.txt", "server.py", "db.py", "faults.py", "knowledge.py", "metrics.py", "workload.py",
             "jsonweb.py"]


def build_sample_image(out: Path, version: str = "0.1.0") -> str:
    members = [("app", None, 0o755)] + [(f"app/{name}", (HERE / name).read_bytes(), 0o644) for name in APP_FILES]
    config = default_config(
        User="10001:10001",
        Env=["PATH=/usr/local/bin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1", "APP_PORT=8080"],
        Cmd=["python", "/app/server.py"],
        Healthcheck={"Test": ["CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/livez')"]},
        Labels={"org.opencontainers.image.source": "https://git.example/deploysafe/sample-app",
                "org.opencontainers.image.revision": "demo", "org.opencontainers.image.version": version},
    )
    history = [{"created_by": "COPY server.py db.py faults.py knowledge.py metrics.py workload.py jsonweb.py ./"}]
    return build(out, [layer_bytes(members)], config, tag=f"registry.example/sample-app:{version}", history=history)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    print(build_sample_image(target))
