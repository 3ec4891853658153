# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Catalogue of the Dockerfile lint: each check with its hadolint rule id (shown in every finding's
message and title, and accepted in `# hadolint ignore=` pragmas) and a severity by deployment risk,
not by hadolint's level: a base that moves under you (no tag, `latest`) is high, a tag without a digest
is low, style (MAINTAINER, consecutive RUNs) is info."""

from __future__ import annotations

from typing import Dict, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check

HADOLINT: Dict[str, str] = {}  # check id -> hadolint rule id


def _c(check_id: str, severity: str, title: str, remediation: str, hadolint: str = "") -> Check:
    full = f"dockerfile.{check_id}"
    if hadolint:
        HADOLINT[full] = hadolint
        title = f"{title} (hadolint {hadolint})"
    return Check(full, severity, title, remediation)


BASE_UNTAGGED = _c("base-untagged", "high", "Base image has no tag (implicit latest)",
                   "Use FROM image:tag@sha256:<digest>.", "DL3006")
BASE_LATEST = _c("base-latest", "high", "Base image uses the latest tag",
                 "Use a release tag and its digest: FROM image:1.2.3@sha256:<digest>.", "DL3007")
BASE_UNPINNED = _c("base-unpinned", "low", "Base image tag not pinned by digest",
                   "Use FROM image:tag@sha256:<digest> so rebuilds use the reviewed base.")
NO_USER = _c("user-root", "high", "Final stage runs as root (USER root, 0, 0:0, or inherited from its base stage)",
             "Add `USER <non-root uid>` to the final stage.", "DL3002")
# hadolint has no rule for a final stage without any USER (it runs as the base image's user, root for most).
USER_UNSET = _c("user-unset", "high", "Final stage sets no USER (runs as the base image's user, usually root)",
                "Add `USER <non-root uid>` to the final stage.")
ADD_URL = _c("add-url", "medium", "ADD downloads from a URL",
             "Download with a checksum-verified RUN step (or COPY a vendored file) instead of ADD <url>.")
CURL_PIPE = _c("curl-pipe-shell", "high", "Remote script piped into a shell",
               "Download to a file, verify its checksum or signature, then run it.")
WORKDIR_RELATIVE = _c("workdir-relative", "low", "WORKDIR is a relative path",
                      "Use an absolute WORKDIR; a relative one depends on every earlier WORKDIR.", "DL3000")
CD_IN_RUN = _c("cd-in-run", "info", "cd used in RUN", "Use WORKDIR to change directory.", "DL3003")
SUDO = _c("sudo", "medium", "sudo used in RUN",
          "RUN already runs as the current USER; switch with USER, or use gosu/su-exec at runtime.", "DL3004")
APT_UNPINNED = _c("apt-unpinned", "low", "apt-get install without pinned versions",
                  "Pin packages: apt-get install <package>=<version>.", "DL3008")
APK_UNPINNED = _c("apk-unpinned", "low", "apk add without pinned versions",
                  "Pin packages: apk add <package>=<version>.", "DL3018")
PIP_UNPINNED = _c("pip-unpinned", "low", "pip install without pinned versions",
                  "Pin packages (pip install <pkg>==<version>) or install from a locked requirements file.", "DL3013")
NPM_UNPINNED = _c("npm-unpinned", "low", "npm install without pinned versions",
                  "Pin packages: npm install <package>@<version> (or npm ci with a lockfile).", "DL3016")
GEM_UNPINNED = _c("gem-unpinned", "low", "gem install without pinned versions",
                  "Pin gems: gem install <gem>:<version> (or -v <version>).", "DL3028")
APT_LISTS = _c("apt-lists", "low", "apt lists not removed after apt-get update",
               "End the same RUN with `rm -rf /var/lib/apt/lists/*`.", "DL3009")
APT_NO_YES = _c("apt-no-yes", "low", "apt-get install without -y",
                "Use apt-get install -y so the build never waits for input.", "DL3014")
APT_RECOMMENDS = _c("apt-recommends", "info", "apt-get install without --no-install-recommends",
                    "Add --no-install-recommends to keep the image small.", "DL3015")
ADD_NOT_COPY = _c("add-not-copy", "low", "ADD used where COPY serves",
                  "Use COPY for local files and directories; ADD only unpacks local archives.", "DL3020")
SHELL_FORM_CMD = _c("shell-form-cmd", "medium", "CMD/ENTRYPOINT in shell form",
                    "Use the JSON (exec) form so the process is PID 1 and receives SIGTERM on rollout.", "DL3025")
CONSECUTIVE_RUN = _c("consecutive-run", "info", "Consecutive RUN instructions",
                     "Merge short consecutive RUN steps into one layer.", "DL3059")
MAINTAINER = _c("maintainer", "info", "MAINTAINER is deprecated",
                "Use LABEL org.opencontainers.image.authors=... instead.", "DL4000")
PIPEFAIL = _c("pipefail", "low", "Pipe in RUN without pipefail",
              "Set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] (or `set -o pipefail`) so a failing "
              "command before the pipe fails the build.", "DL4006")
SECRET_ENV = _c("secret-env-arg", "high", "Secret-like ENV/ARG",
                "Never put secrets in ENV or ARG (they stay in the image config and history); use "
                "RUN --mount=type=secret or inject them at runtime.", "DL3064")
COPY_FROM_UNDEFINED = _c("copy-from-undefined", "high", "COPY --from names no earlier stage",
                         "Define the stage (FROM ... AS name) before the COPY, or fix the name; an unknown "
                         "name is pulled as an image.", "DL3022")
MULTIPLE_CMD = _c("multiple-cmd", "medium", "Multiple CMD in one stage",
                  "Keep one CMD per stage: only the last one takes effect.", "DL4003")
MULTIPLE_ENTRYPOINT = _c("multiple-entrypoint", "medium", "Multiple ENTRYPOINT in one stage",
                         "Keep one ENTRYPOINT per stage: only the last one takes effect.", "DL4004")
EXPOSE_RANGE = _c("expose-range", "medium", "EXPOSE port out of range",
                  "Use ports 0-65535.", "DL3011")

CHECKS: Tuple[Check, ...] = (
    BASE_UNTAGGED, BASE_LATEST, BASE_UNPINNED, NO_USER, USER_UNSET, ADD_URL, CURL_PIPE, WORKDIR_RELATIVE, CD_IN_RUN, SUDO,
    APT_UNPINNED, APK_UNPINNED, PIP_UNPINNED, NPM_UNPINNED, GEM_UNPINNED, APT_LISTS, APT_NO_YES, APT_RECOMMENDS,
    ADD_NOT_COPY, SHELL_FORM_CMD, CONSECUTIVE_RUN, MAINTAINER, PIPEFAIL, SECRET_ENV, COPY_FROM_UNDEFINED,
    MULTIPLE_CMD, MULTIPLE_ENTRYPOINT, EXPOSE_RANGE,
)
