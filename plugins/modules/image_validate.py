#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_validate
short_description: Validate a built container image (config and every layer) without extracting it
version_added: 0.1.0
description:
  - Reads an OCI image layout directory, or a tarball holding an OCI layout or a docker-archive
    (C(podman save), C(docker save), C(skopeo copy)), or a registry reference through C(skopeo) when it is
    installed. Layers are read as tar streams in place and never extracted; whiteouts are applied to build
    the final filesystem view.
  - 'Checks: C(image.user-root), C(image.tag-latest), C(image.digest-unknown), C(image.size),
    C(image.healthcheck) (waived with O(probes_defined)), C(image.labels), secrets (C(secret.*)) in env,
    labels, history and layer files, C(image.setuid), C(image.world-writable), C(image.package-cache),
    C(image.compiler), C(image.unsafe-path) (members with C(../)), C(image.layer-unreadable);
    with O(dockerfile), the Dockerfile lint (C(dockerfile.*)).'
  - A file that is not an image, or a truncated archive, fails the task with the file and the reason.
  - The verdict's measurements say what a pass stands on, C(layers_read) and C(files_in_image), and what the
    secret detector did not read. An image without layers is C(pending).
options:
  path:
    description: OCI layout directory or image tarball. Required unless O(reference) is given.
    type: path
  reference:
    description:
      - Image reference, for example C(registry.example/app:1.4.2@sha256:...). Used for the tag and digest checks;
        without O(path) the image is copied from the registry with C(skopeo) into a temporary OCI layout.
    type: str
    default: ""
  platform:
    description: Platform to pick from a multi-platform index, as C(os/architecture).
    type: str
    default: linux/amd64
  max_compressed_mb:
    description:
      - Budget for the sum of the compressed layer sizes (MiB). No budget when unset.
      - A budget is a gate. An image over it fails the verdict at any O(severity_threshold) (finding
        C(image.size) is reported as C(medium) but gates like a limit, and cannot be exempted); raise the
        budget to accept a larger image.
    type: float
  max_uncompressed_mb:
    description: Budget for the sum of the uncompressed file sizes (MiB). No budget when unset. A gate, like O(max_compressed_mb).
    type: float
  require_healthcheck:
    description: Report C(image.healthcheck) when the config has no HEALTHCHECK.
    type: bool
    default: true
  probes_defined:
    description: The deployment manifests define liveness/readiness probes; waives C(image.healthcheck).
    type: bool
    default: false
  required_labels:
    description: Labels the image config must carry.
    type: list
    elements: str
    default: [org.opencontainers.image.source, org.opencontainers.image.revision, org.opencontainers.image.version]
  allowed_setuid:
    description: Absolute paths of setuid/setgid files that are accepted (for example C(/usr/bin/su)).
    type: list
    elements: str
    default: []
  scan_secrets:
    description: Scan env, labels, history and layer files (text files up to O(secret_max_file_size)) for secrets.
    type: bool
    default: true
  secret_max_file_size:
    description:
      - Layer files larger than this many bytes are not scanned for secrets. They are counted in the
        verdict's measurement C(secret_files_skipped_large), binary files in C(secret_files_skipped_binary).
    type: int
    default: 1048576
  allowlist_paths:
    description: Glob patterns of image paths the secret detector skips.
    type: list
    elements: str
    default: []
  allowlist_fingerprints:
    description: Secret fingerprints (from earlier findings) to ignore.
    type: list
    elements: str
    default: []
  dockerfile:
    description:
      - 'Dockerfile of the image, linted as well (C(dockerfile.*), the rules of M(deploysafe.preflight.security_scan):
        base image tag and digest, root USER, package pinning, exec-form CMD, pipefail, secrets in ENV/ARG...,
        each with its hadolint id; C(# hadolint ignore=) pragmas are honoured).'

    type: path
extends_documentation_fragment:
  - deploysafe.preflight.findings
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Reads the image and returns findings; writes no report.
requirements:
  - C(skopeo) on the host only when a registry O(reference) is given without O(path).
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Validate the image built by CI
  deploysafe.preflight.image_validate:
    path: build/app-oci.tar
    reference: registry.example/app:1.4.2
    max_compressed_mb: 200
    probes_defined: true
    dockerfile: Dockerfile
    report_dir: "{{ preflight_run_dir }}/image_validate"
  register: image

- name: Validate an image straight from the registry (needs skopeo)
  deploysafe.preflight.image_validate:
    reference: registry.example/app:1.4.2
"""

RETURN = r"""
findings:
  description: Every finding (exempted ones carry C(exempted_by)), most severe first.
  returned: always
  type: list
  elements: dict
  sample: [{"check_id": "image.user-root", "severity": "high", "message": "config.User is empty: the container runs as root",
            "location": {"file": "build/app-oci.tar", "pointer": "/config/User"}, "remediation": "Set USER...",
            "evidence_redacted": "", "fingerprint": "0f1e2d3c4b5a6978", "tool": "deploysafe.preflight"}]
passed:
  description: True when no finding at or above O(severity_threshold) remains after exemptions.
  returned: always
  type: bool
  sample: false
counts:
  description: Non-exempted findings by severity.
  returned: always
  type: dict
  sample: {"info": 0, "low": 1, "medium": 0, "high": 1, "critical": 0}
exempted:
  description: Number of findings covered by a live exemption.
  returned: always
  type: int
  sample: 0
reports:
  description: Paths of the reports written to O(report_dir).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/preflight/run/image_validate/image_validate.sarif]
image:
  description: What was read (format, digests, tags, layer count, sizes, files in the final filesystem).
  returned: always
  type: dict
  sample: {"format": "oci-archive", "manifest_digest": "sha256:4f1c...", "config_digest": "sha256:9ab2...",
           "tags": ["registry.example/app:1.4.2"], "layers": 5, "compressed_bytes": 48213312,
           "uncompressed_bytes": 131072000, "files": 5123, "secret_files_scanned": 3012,
           "secret_files_skipped_large": 4, "secret_files_skipped_binary": 1873}
verdict:
  description:
    - The evidence contract; measurements hold the compressed and uncompressed sizes (with the budget as
      threshold), the files in the image, the files the secret detector read and skipped, and C(layers_read).
  returned: always
  type: dict
  sample: {"status": "fail", "summary": "image build/app-oci.tar: 1 finding(s) at or above high",
           "evidence": {"artifacts": [], "findings": {"high": 1, "exempted": 0},
                        "measurements": [{"name": "compressed_size", "value": 46.0, "unit": "MiB", "threshold": 200,
                                          "comparison": "<=", "ok": true},
                                         {"name": "layers_read", "value": 5, "unit": "layers"}]}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import FindingsError
from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.report import (
    findings_argument_spec, finish_scan,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.image import (
    ImageError, all_checks, image_evidence, validate_image,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.checks import ImagePolicy
from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import Allowlist
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts, gate_failed

DEFAULT_LABELS = ["org.opencontainers.image.source", "org.opencontainers.image.revision",
                  "org.opencontainers.image.version"]


def main():
    argument_spec = dict(
        path=dict(type="path"),
        reference=dict(type="str", default=""),
        platform=dict(type="str", default="linux/amd64"),
        max_compressed_mb=dict(type="float"),
        max_uncompressed_mb=dict(type="float"),
        require_healthcheck=dict(type="bool", default=True),
        probes_defined=dict(type="bool", default=False),
        required_labels=dict(type="list", elements="str", default=DEFAULT_LABELS),
        allowed_setuid=dict(type="list", elements="str", default=[]),
        scan_secrets=dict(type="bool", default=True),
        secret_max_file_size=dict(type="int", default=1024 * 1024, no_log=False),
        allowlist_paths=dict(type="list", elements="str", default=[]),
        allowlist_fingerprints=dict(type="list", elements="str", default=[]),
        dockerfile=dict(type="path"),
    )
    argument_spec.update(findings_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[("path", "reference")])
    stamp_module_verdicts(module, "image_validate")
    p = module.params
    policy = ImagePolicy(reference=p["reference"], max_compressed_mb=p["max_compressed_mb"],
                         max_uncompressed_mb=p["max_uncompressed_mb"], require_healthcheck=p["require_healthcheck"],
                         probes_defined=p["probes_defined"], required_labels=p["required_labels"],
                         allowed_setuid=p["allowed_setuid"])
    subject = f"image {p['path'] or p['reference']}"
    try:
        findings, facts = validate_image(p["path"] or "", p["reference"], policy=policy, platform=p["platform"],
                                         scan_secrets=p["scan_secrets"],
                                         secret_allowlist=Allowlist(paths=p["allowlist_paths"],
                                                                    fingerprints=p["allowlist_fingerprints"]),
                                         secret_max_bytes=p["secret_max_file_size"], dockerfile=p["dockerfile"] or "")
        coverage, measurements = image_evidence(facts, policy)
        result = finish_scan(findings, all_checks(), subject, threshold=p["severity_threshold"],
                             exemptions_file=p["exemptions_file"], sarif_inputs=p["sarif_inputs"],
                             report_dir=None if module.check_mode else p["report_dir"],
                             report_basename="image_validate", report_formats=p["report_formats"],
                             coverage=coverage, measurements=measurements)
    except (ImageError, FindingsError) as exc:
        module.fail_json(msg=str(exc))
    if gate_failed(result["verdict"]["status"], p["fail_on"]):
        module.fail_json(msg=result["verdict"]["summary"], image=facts, **result)
    module.exit_json(image=facts, **result)


if __name__ == "__main__":
    main()
