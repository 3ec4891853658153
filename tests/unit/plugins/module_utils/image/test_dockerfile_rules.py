# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every Dockerfile rule: a planted defect it reports (with its hadolint id in the message) and a clean
variant it does not; hadolint's ignore pragmas; DL3002 through root aliases and inherited stages."""

from __future__ import annotations

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile import HADOLINT, lint_dockerfile
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile_checks import CHECKS

PIN = "@sha256:" + "a" * 64
HEAD = f"FROM debian:12{PIN}\n"
TAIL = "USER 10001\n"

# check id -> (planted Dockerfile body, clean Dockerfile body); HEAD and TAIL wrap both unless a FROM is given.
CASES = {
    "base-untagged": ("FROM debian\n", "FROM debian:12" + PIN + "\n"),
    "base-latest": ("FROM registry.example/team/app:latest\n", "FROM registry.example/team/app:1.4" + PIN + "\n"),
    "base-unpinned": ("FROM localhost:5000/app:1.4\n", "FROM localhost:5000/app@sha256:" + "b" * 64 + "\n"),
    "workdir-relative": ("WORKDIR app\n", "WORKDIR /app\nWORKDIR $HOME/app\n"),
    "cd-in-run": ("RUN cd /src && make\n", "WORKDIR /src\nRUN make\n"),
    "sudo": ("RUN sudo make install\n", "RUN make install\n"),
    "apt-unpinned": ("RUN apt-get install -y --no-install-recommends curl=8.* git $buildDeps\n",
                     "RUN apt-get install -y --no-install-recommends curl=8.5.0-2 git=1:2.43.0-1\n"),
    "apk-unpinned": ("RUN apk add --no-cache --virtual .deps bash\n", "RUN apk add --no-cache --virtual .deps bash=5.2.26-r0\n"),
    "pip-unpinned": ("RUN pip install --no-cache-dir flask requests==2.32.3\n",
                     "RUN pip install --no-cache-dir -r requirements.txt flask==3.0.3 ./wheels/x.whl\n"),
    "npm-unpinned": ("RUN npm install -g @angular/cli\n", "RUN npm install -g @angular/cli@17.3.0 && npm ci\n"),
    "gem-unpinned": ("RUN gem install bundler\n", "RUN gem install bundler:2.5.6 && gem install rake -v 13.2.1\n"),
    "apt-lists": ("RUN apt-get update && apt-get install -y --no-install-recommends curl=8.5.0-2\n",
                  "RUN apt-get update && apt-get install -y --no-install-recommends curl=8.5.0-2 "
                  "&& rm -rf /var/lib/apt/lists/*\n"),
    "apt-no-yes": ("RUN apt-get install --no-install-recommends curl=8.5.0-2\n",
                   "RUN apt-get -qq install --no-install-recommends curl=8.5.0-2\n"),
    "apt-recommends": ("RUN apt-get install -y curl=8.5.0-2\n",
                       "RUN apt-get install -y -o APT::Install-Recommends=false curl=8.5.0-2\n"),
    "add-not-copy": ("ADD config.yml /etc/app/\n", "COPY config.yml /etc/app/\nADD rootfs.tar.xz /\n"),
    "add-url": ("ADD https://x.test/tool /usr/bin/tool\n", "COPY tool /usr/bin/tool\n"),
    "shell-form-cmd": ("CMD python -m app\n", 'CMD ["python", "-m", "app"]\n'),
    "consecutive-run": ("RUN make\nRUN make install\n", "RUN make && make install\n"),
    "maintainer": ("MAINTAINER ops@example.test\n", 'LABEL org.opencontainers.image.authors="ops@example.test"\n'),
    "pipefail": ('RUN wget -qO- https://x.test/a.tgz | tar xz && v="$(dpkg -l | wc -l)"\n',
                 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN wget -qO- https://x.test/a.tgz | tar xz\n'),
    "secret-env-arg": ("ENV DB_PASSWORD=" + "hun" + "ter2\n", "ENV DB_PASSWORD_FILE=/run/secrets/db\nARG VERSION=1\n"),
    "copy-from-undefined": ("COPY --from=bulid /out /app\n", "COPY --from=nginx:1.27 /etc/nginx /etc/nginx\n"),
    "multiple-cmd": ('CMD ["a"]\nCMD ["b"]\n', 'CMD ["b"]\n'),
    "multiple-entrypoint": ('ENTRYPOINT ["a"]\nENTRYPOINT ["b"]\n', 'ENTRYPOINT ["b"]\n'),
    "expose-range": ("EXPOSE 80/tcp 70000\n", "EXPOSE 80/tcp 8000-8010 65535\n"),
    "curl-pipe-shell": ("RUN curl -fsSL https://x.test/i | sh\n", "RUN curl -fsSLo i https://x.test/i && sha256sum -c i.sha\n"),
}


def _wrap(body):
    return (body if body.startswith("FROM") else HEAD + body) + TAIL


def _ids(text):
    return [f.check_id.split(".", 1)[1] for f in lint_dockerfile(text)]


def test_every_check_has_a_case():
    assert {c.check_id.split(".", 1)[1] for c in CHECKS} - {"user-root", "user-unset"} == set(CASES)


@pytest.mark.parametrize("check", sorted(CASES))
def test_planted_defect_is_reported_and_clean_is_not(check):
    planted, clean = CASES[check]
    findings = [f for f in lint_dockerfile(_wrap(planted)) if f.check_id == f"dockerfile.{check}"]
    assert findings, f"{check} missed in {planted!r}"
    alias = HADOLINT.get(f"dockerfile.{check}")
    if alias:
        assert all(f"[{alias}]" in f.message for f in findings)
    assert check not in _ids(_wrap(clean)), lint_dockerfile(_wrap(clean))


def test_severity_by_risk():
    by_id = {f.check_id: f.severity for f in lint_dockerfile("FROM a\nFROM b:latest\nFROM c:1\n" + TAIL)}
    assert by_id == {"dockerfile.base-untagged": "high", "dockerfile.base-latest": "high",
                     "dockerfile.base-unpinned": "low"}
    assert [f.severity for f in lint_dockerfile(HEAD + "ARG NPM_TOKEN\n" + TAIL)] == ["medium"]


@pytest.mark.parametrize("user", ["root", "0", "0:0", "root:root"])
def test_last_user_root_in_any_spelling(user):
    findings = lint_dockerfile(f"{HEAD}USER {user}\n")
    assert [(f.check_id, f.location.line) for f in findings] == [("dockerfile.user-root", 2)]
    assert "[DL3002]" in findings[0].message


def test_user_inherited_from_an_earlier_stage():
    root = f"FROM debian:12{PIN} AS base\nUSER root\nFROM base\nRUN make\n"
    findings = [f for f in lint_dockerfile(root) if f.check_id == "dockerfile.user-root"]
    assert [(f.location.line, "inherited from stage base" in f.message) for f in findings] == [(2, True)]
    assert lint_dockerfile(f"FROM debian:12{PIN} AS base\nUSER 10001\nFROM base\n") == []
    # a later stage from an unrelated base does not inherit anything
    assert _ids(f"FROM debian:12{PIN} AS base\nUSER 10001\nFROM debian:12{PIN}\n") == ["user-unset"]
    assert "[DL" not in lint_dockerfile(HEAD)[0].message  # hadolint has no rule for a missing USER


def test_pipe_inside_a_command_substitution():
    text = HEAD + 'RUN arch="$(dpkg --print-architecture | awk -F- \'{ print $NF }\')" && echo "$arch"\n' + TAIL
    assert _ids(text) == ["pipefail"]
    assert _ids(HEAD + 'RUN test -f /a || echo "$(date)"\n' + TAIL) == []


def test_copy_from_a_stage_index_and_alias():
    ok = f"FROM debian:12{PIN} AS Build\nRUN make\nFROM debian:12{PIN}\nCOPY --from=build /o /o\nCOPY --from=0 /o /p\n"
    assert lint_dockerfile(ok + TAIL) == []
    assert _ids(f"FROM debian:12{PIN}\nCOPY --from=1 /o /o\n" + TAIL) == ["copy-from-undefined"]


def test_inline_and_global_ignores():
    text = (HEAD + "# hadolint ignore=DL3008,DL3015\nRUN apt-get install -y curl\n"
            "RUN echo hi\n" + "RUN apt-get install -y vim\n" + TAIL)
    assert [(f.check_id, f.location.line) for f in lint_dockerfile(text)] == [
        ("dockerfile.consecutive-run", 4), ("dockerfile.apt-unpinned", 5), ("dockerfile.apt-recommends", 5),
        ("dockerfile.consecutive-run", 5)]
    assert _ids("# hadolint global ignore=DL3059,DL3008\n" + text) == ["apt-recommends"]
    # our own ids work in the pragma too
    assert _ids(HEAD + "# hadolint ignore=dockerfile.sudo\nRUN sudo make\n" + TAIL) == []


def test_continuations_heredocs_and_exec_form_run():
    text = (HEAD + "RUN apt-get update \\\n  # a comment inside\n  && apt-get install -y --no-install-recommends \\\n"
            "     curl \\\n  && rm -rf /var/lib/apt/lists/*\n"
            "RUN <<EOF\nset -e\nsudo make\nEOF\n" 'RUN ["/bin/sh", "-c", "cd /x && make"]\n' + TAIL)
    assert [(f.check_id, f.location.line) for f in lint_dockerfile(text)] == [
        ("dockerfile.apt-unpinned", 2), ("dockerfile.sudo", 7), ("dockerfile.cd-in-run", 11)]


def test_windows_escape_directive():
    text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022" + PIN + "\n" \
           "WORKDIR C:\\\\app\nRUN powershell -Command `\n    Write-Host hi\nUSER ContainerUser\n"
    assert lint_dockerfile(text) == []
