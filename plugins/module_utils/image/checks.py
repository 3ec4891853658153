# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image checks on the config (user, tag/digest, healthcheck, labels, secrets in env/labels/history)
and on the final filesystem (size, setuid/setgid, world-writable dirs, package caches, compilers)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, Location, make_finding
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.archive import Image
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.layers import (
    LayerWalk, is_setuid, is_world_writable_dir,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import SecretScanner, matches_to_findings


def _c(check_id: str, severity: str, title: str, remediation: str, gate: str = "") -> Check:
    return Check(f"image.{check_id}", severity, title, remediation, gate)


USER_ROOT = _c("user-root", "high", "Image runs as root", "Set USER to a non-root uid in the final stage.")
TAG_LATEST = _c("tag-latest", "medium", "Image tag is latest or missing", "Tag releases with an immutable version.")
DIGEST_UNKNOWN = _c("digest-unknown", "low", "Image manifest digest unknown",
                    "Deploy by digest: export as an OCI layout/archive or pass the reference with @sha256:...")
# A budget is the user's own limit: over it fails at any severity_threshold (gate fail), not only at "medium".
SIZE = _c("size", "medium", "Image size over budget",
          "Use a smaller base image and multi-stage builds, or raise the budget if the growth is intended.",
          gate="fail")
HEALTHCHECK = _c("healthcheck", "low", "No HEALTHCHECK (and no probes declared)",
                 "Add a HEALTHCHECK, or define liveness/readiness probes in the manifests (probes_defined).")
LABELS = _c("labels", "medium", "Required OCI labels missing",
            "Set org.opencontainers.image.source, .revision and .version labels at build time.")
SETUID = _c("setuid", "high", "setuid/setgid file in the image",
            "Remove the file or its setuid/setgid bit (chmod u-s,g-s) in the final stage.")
WORLD_WRITABLE = _c("world-writable", "medium", "World-writable directory without sticky bit",
                    "chmod o-w the directory, or add the sticky bit (+t) for shared temp dirs.")
PACKAGE_CACHE = _c("package-cache", "low", "Package manager cache left in the image",
                   "Clean caches in the same RUN step (apt-get clean && rm -rf /var/lib/apt/lists/*, pip --no-cache-dir).")
COMPILER = _c("compiler", "medium", "Compiler or build toolchain in the final image",
              "Build in a separate stage and copy only the artefacts into the final image.")
CHECKS = (USER_ROOT, TAG_LATEST, DIGEST_UNKNOWN, SIZE, HEALTHCHECK, LABELS, SETUID, WORLD_WRITABLE, PACKAGE_CACHE,
          COMPILER)
DEFAULT_LABELS = ("org.opencontainers.image.source", "org.opencontainers.image.revision",
                  "org.opencontainers.image.version")
CACHE_DIRS = ("/var/cache/apt/archives", "/var/lib/apt/lists", "/var/cache/apk", "/var/cache/yum", "/var/cache/dnf",
              "/var/cache/zypp", "/root/.cache/pip", "/root/.npm/_cacache", "/usr/local/share/.cache/yarn",
              "/root/.cache/go-build", "/root/.cargo/registry", "/root/.m2/repository")
_CACHE_IGNORED = ("lock", "partial")
_COMPILER = re.compile(r"^/(?:usr/(?:local/)?)?bin/(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+|rustc|javac|tcc|gfortran)"
                       r"(?:-\d+(?:\.\d+)*)?$|^/usr/(?:local/)?go/bin/go$|^/usr/lib/jvm/[^/]+/bin/javac$")


@dataclass
class ImagePolicy:
    reference: str = ""
    max_compressed_mb: Optional[float] = None
    max_uncompressed_mb: Optional[float] = None
    require_healthcheck: bool = True
    probes_defined: bool = False
    required_labels: Sequence[str] = DEFAULT_LABELS
    allowed_setuid: Sequence[str] = field(default_factory=list)


def _config(image: Image) -> Dict[str, Any]:
    cfg = image.config.get("config") or image.config.get("Config") or {}
    return cfg if isinstance(cfg, dict) else {}


def check_config(image: Image, policy: ImagePolicy, scanner: Optional[SecretScanner]) -> List[Finding]:
    cfg = _config(image)
    out: List[Finding] = []
    loc = Location(file=image.source)
    user = str(cfg.get("User") or "").strip()
    if user.split(":", maxsplit=1)[0] in ("", "root", "0"):
        out.append(make_finding(USER_ROOT, f"config.User is {user or 'empty'}: the container runs as root",
                                Location(file=image.source, pointer="/config/User")))
    refs = [r for r in [policy.reference] + list(image.tags) if r]
    tags = [r.split("@")[0].rsplit("/", 1)[-1].partition(":")[2] for r in refs]
    if not refs or any(t in ("", "latest") for t in tags):
        out.append(make_finding(TAG_LATEST, f"image reference {refs[0] if refs else '(none)'} has no version tag"
                                if not refs or tags[0] == "" else f"image is tagged latest ({', '.join(refs)})", loc))
    if not image.manifest_digest and "@sha256:" not in policy.reference:
        out.append(make_finding(DIGEST_UNKNOWN, f"{image.kind} records no manifest digest; the deployed digest "
                                                f"cannot be tied to this image", loc))
    health = cfg.get("Healthcheck") or {}
    has_health = isinstance(health, dict) and health.get("Test") and health.get("Test") != ["NONE"]
    if policy.require_healthcheck and not has_health and not policy.probes_defined:
        out.append(make_finding(HEALTHCHECK, "no HEALTHCHECK in the image config and no probes declared",
                                Location(file=image.source, pointer="/config/Healthcheck")))
    labels = cfg.get("Labels") or {}
    missing = [k for k in policy.required_labels if not (isinstance(labels, dict) and labels.get(k))]
    if missing:
        out.append(make_finding(LABELS, f"missing labels {', '.join(missing)}",
                                Location(file=image.source, pointer="/config/Labels")))
    if scanner is not None:
        out.extend(_config_secrets(image, cfg, scanner))
    return out


def _config_secrets(image: Image, cfg: Dict[str, Any], scanner: SecretScanner) -> List[Finding]:
    """Env, labels and history are text anyone with the image can read: scan them like files."""
    out: List[Finding] = []
    pieces = [(f"/config/Env/{i}", str(e)) for i, e in enumerate(cfg.get("Env") or [])]
    pieces += [(f"/config/Labels/{k.replace('~', '~0').replace('/', '~1')}", f"{k}={v}")
               for k, v in (cfg.get("Labels") or {}).items()]
    pieces += [(f"/history/{i}/created_by", str(h.get("created_by") or ""))
               for i, h in enumerate(image.config.get("history") or []) if isinstance(h, dict)]
    for pointer, text in pieces:
        for finding in matches_to_findings(scanner.scan_bytes(text.encode("utf-8", "replace") + b"\n", "image config")):
            finding.location = Location(file=image.source, pointer=pointer)
            finding.message = finding.message.replace("image config:1", f"image config {pointer}")
            out.append(finding)
    return out


def check_filesystem(image: Image, walk: LayerWalk, policy: ImagePolicy) -> List[Finding]:
    out: List[Finding] = []
    mb = 1024 * 1024
    for label, value, limit in (("compressed", walk.compressed_bytes, policy.max_compressed_mb),
                                ("uncompressed", walk.uncompressed_bytes, policy.max_uncompressed_mb)):
        if limit is not None and value > limit * mb:
            out.append(make_finding(SIZE, f"{label} size {value / mb:.1f} MiB is over the {limit:g} MiB budget",
                                    Location(file=image.source)))
    allowed = set(policy.allowed_setuid)
    caches: Dict[str, List[int]] = {}
    compilers: List[str] = []
    for path, entry in sorted(walk.files.items()):
        if is_setuid(entry) and path not in allowed:
            bits = ("setuid" if entry.mode & 0o4000 else "") + (" setgid" if entry.mode & 0o2000 else "")
            out.append(make_finding(SETUID, f"{path} is {bits.strip()} (mode {entry.mode:04o})",
                                    Location(file=path, layer=entry.layer)))
        elif is_world_writable_dir(entry):
            out.append(make_finding(WORLD_WRITABLE, f"{path} is world-writable without sticky bit "
                                                    f"(mode {entry.mode:04o})", Location(file=path, layer=entry.layer)))
        if entry.kind == "file":
            for cache in CACHE_DIRS:
                if path.startswith(cache + "/") and path.rsplit("/", 1)[-1] not in _CACHE_IGNORED:
                    caches.setdefault(cache, [0, 0])
                    caches[cache][0] += 1
                    caches[cache][1] += entry.size
        if entry.kind in ("file", "symlink", "hardlink") and _COMPILER.match(path):
            compilers.append(path)
    for cache, (count, size) in sorted(caches.items()):
        out.append(make_finding(PACKAGE_CACHE, f"{cache} holds {count} file(s), {size / mb:.1f} MiB",
                                Location(file=cache)))
    if compilers:
        out.append(make_finding(COMPILER, f"build tools in the final image: {', '.join(compilers[:8])}"
                                          + (" ..." if len(compilers) > 8 else ""), Location(file=compilers[0])))
    return out
