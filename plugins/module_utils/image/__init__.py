# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container image validation: read an OCI layout or an OCI/docker-archive tarball in place
(never extracted), walk every layer with whiteouts applied, and run the image checks; plus a
Dockerfile lint (dockerfile.py) shared with the repository scan."""

from __future__ import annotations

from ansible_collections.deploysafe.preflight.plugins.module_utils.image.errors import ImageError

__all__ = ["ImageError", "all_checks", "image_evidence", "validate_image"]


def validate_image(path: str = "", reference: str = "", *, policy=None, platform: str = "linux/amd64",
                   scan_secrets: bool = True, secret_allowlist=None, secret_max_bytes: int = 1024 * 1024,
                   dockerfile: str = ""):
    """Run every image check (and the Dockerfile lint when given). Returns (findings, facts) where
    facts holds sizes, layer count, digests and the number of files scanned for secrets."""
    import shutil

    from ansible_collections.deploysafe.preflight.plugins.module_utils.image import archive, checks, layers
    from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile import lint_dockerfile
    from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import SecretScanner

    policy = policy or checks.ImagePolicy(reference=reference)
    workdir = ""
    if not path:
        if not reference:
            raise ImageError("give an image path (OCI layout or tarball) or a registry reference")
        workdir = archive.temporary_dir()
        path = archive.fetch_with_skopeo(reference, workdir)
    try:
        image = archive.open_image(path, platform)
        try:
            scanner = SecretScanner(secret_allowlist) if scan_secrets else None
            walk = layers.walk_layers(image, scanner, secret_max_bytes)
            findings = checks.check_config(image, policy, scanner) + walk.findings + \
                checks.check_filesystem(image, walk, policy)
            facts = {"format": image.kind, "manifest_digest": image.manifest_digest,
                     "config_digest": image.config_digest, "tags": image.tags, "layers": len(image.layers),
                     "compressed_bytes": walk.compressed_bytes, "uncompressed_bytes": walk.uncompressed_bytes,
                     "files": len(walk.files), "secret_files_scanned": walk.secret_files_scanned,
                     "secret_files_skipped_large": walk.secret_files_skipped_large,
                     "secret_files_skipped_binary": walk.secret_files_skipped_binary}
        finally:
            image.close()
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if dockerfile:
        try:
            with open(dockerfile, encoding="utf-8", errors="replace") as handle:
                findings += lint_dockerfile(handle.read(), dockerfile)
        except OSError as exc:
            raise ImageError(f"cannot read Dockerfile {dockerfile}: {exc.strerror or exc}") from None
    return findings, facts


def image_evidence(facts, policy):
    """(coverage, measurements) of an image scan for findings.report.finish_scan: the layers read are what a
    pass stands on; sizes carry the budget as threshold; files the secret detector skipped are counted."""
    from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Coverage
    from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import measurement
    mib = 1024 * 1024
    sizes = []
    for name, key, budget in (("compressed_size", "compressed_bytes", policy.max_compressed_mb),
                              ("uncompressed_size", "uncompressed_bytes", policy.max_uncompressed_mb)):
        entry = measurement(name, round(facts[key] / mib, 2), "MiB", budget, "<=" if budget is not None else None)
        if budget is not None:  # decide on bytes, as the image.size check does: rounding must not hide 4 KiB over
            entry["ok"] = facts[key] <= budget * mib
        sizes.append(entry)
    counts = [measurement("files_in_image", facts["files"], "files"),
              measurement("secret_files_scanned", facts["secret_files_scanned"], "files"),
              measurement("secret_files_skipped_large", facts["secret_files_skipped_large"], "files"),
              measurement("secret_files_skipped_binary", facts["secret_files_skipped_binary"], "files")]
    return Coverage("layers_read", facts["layers"], "layers"), sizes + counts


def all_checks():
    from ansible_collections.deploysafe.preflight.plugins.module_utils.image import checks, dockerfile, layers
    from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import CHECKS as SECRET_CHECKS
    return tuple(checks.CHECKS) + tuple(layers.CHECKS) + tuple(dockerfile.CHECKS) + tuple(SECRET_CHECKS)
