# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Dockerfile lint rules: one pass over the instructions, stage by stage. Each hit is a Hit (check,
message, the instruction it is reported on) so the caller can honour ignore pragmas on that line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check
from ansible_collections.deploysafe.preflight.plugins.module_utils.image import dockerfile_checks as C
from ansible_collections.deploysafe.preflight.plugins.module_utils.image import dockerfile_shell as sh
from ansible_collections.deploysafe.preflight.plugins.module_utils.image.dockerfile_parse import Instruction

_URL = re.compile(r"^(?:https?|ftp)://|^git@", re.IGNORECASE)
_ARCHIVE = re.compile(r"\.(?:tar|tar\.(?:gz|bz2|xz|zst|lz|lzma|Z)|tgz|tbz2?|txz|tlz|tZ|tb2|gz|bz2|xz|lz|lzma|Z|zst)$")
_SECRET_NAME = re.compile(r"passw(?:or)?d|secret|token|api_?key|private_?key|credential|access_?key|auth_?key",
                          re.IGNORECASE)
_NOT_A_SECRET_NAME = re.compile(r"_(?:FILE|PATH|DIR|URL|ENDPOINT|HOST|PORT|TYPE|NAME|ID)$", re.IGNORECASE)
_ENV_PAIR = re.compile(r"([A-Za-z_][\w.-]*)=(\"(?:[^\"\\]|\\.)*\"|'[^']*'|\S*)")


@dataclass
class Hit:
    check: Check
    message: str
    at: Instruction
    severity: Optional[str] = None


@dataclass
class Stage:
    index: int
    start: Instruction
    image: str
    alias: str
    user: Optional[Tuple[str, Instruction]] = None  # last USER of the stage (or inherited from its base stage)
    inherited_from: str = ""
    shell_pipefail: bool = False
    cmds: int = 0
    entrypoints: int = 0
    apt_unclean: List[Instruction] = field(default_factory=list)


def _from_parts(args: str) -> Tuple[str, str]:
    words = args.split()
    image = words[0] if words else ""
    alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else ""
    return image, alias


def _base_hits(ins: Instruction, image: str, known: Dict[str, Stage]) -> List[Hit]:
    if not image or image.lower() == "scratch" or image.lower() in known or "$" in image:
        return []
    if "@" in image:
        return []  # pinned by digest, with or without a tag
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if tag == "":
        return [Hit(C.BASE_UNTAGGED, f"base image {image} has no tag (implicit latest)", ins)]
    if tag == "latest":
        return [Hit(C.BASE_LATEST, f"base image {image} uses the latest tag", ins)]
    return [Hit(C.BASE_UNPINNED, f"base image {image}: tag {tag!r} without a digest", ins)]


def _is_root(user: str) -> bool:
    return user.split(":", 1)[0].strip().strip("\"'") in ("", "root", "0")


def _secret_hits(ins: Instruction) -> List[Hit]:
    if ins.keyword == "ARG":
        name, eq, value = ins.args.partition("=")
        pairs = [(name.strip(), value.strip() if eq else None)]
    else:
        pairs = list(_ENV_PAIR.findall(ins.args))
        if not pairs and ins.args.split():  # legacy `ENV NAME value`
            words = ins.args.split(None, 1)
            pairs = [(words[0], words[1] if len(words) > 1 else "")]
    out = []
    for name, value in pairs:
        if not _SECRET_NAME.search(name) or _NOT_A_SECRET_NAME.search(name):
            continue
        literal = value is not None and value.strip("\"'") != "" and "$" not in value
        if literal:
            out.append(Hit(C.SECRET_ENV, f"{ins.keyword} {name} sets a literal value (kept in the image "
                                         f"config and history)", ins))
        else:
            out.append(Hit(C.SECRET_ENV, f"{ins.keyword} {name} passes a secret-like value through the build "
                                         f"(kept in the image history)", ins, severity="medium"))
    return out


def _expose_hits(ins: Instruction) -> List[Hit]:
    out = []
    for word in ins.args.split():
        port = word.split("/", 1)[0]
        for part in port.split("-"):
            if part.isdigit() and int(part) > 65535:
                out.append(Hit(C.EXPOSE_RANGE, f"EXPOSE {word}: port {part} is out of range 0-65535", ins))
    return out


def _add_hits(ins: Instruction) -> List[Hit]:
    exec_form = ins.exec_form()
    words = exec_form if exec_form is not None else ins.args.split()
    sources = words[:-1] if len(words) > 1 else []
    out = [Hit(C.ADD_URL, f"ADD fetches {w.split('?')[0]}", ins) for w in sources if _URL.match(w)]
    local = [w for w in sources if not _URL.match(w) and not _ARCHIVE.search(w) and not w.startswith("<<")]
    if local:
        out.append(Hit(C.ADD_NOT_COPY, f"ADD {' '.join(local[:3])}: COPY does the same without ADD's unpacking "
                                       f"and URL semantics", ins))
    return out


def _copy_from_hits(ins: Instruction, stages: List[Stage], known: Dict[str, Stage]) -> List[Hit]:
    source = ins.flags.get("from", "")
    if not source or "$" in source or any(ch in source for ch in ":/@"):
        return []  # no --from, a build arg, or an image reference
    if source.isdigit():
        if int(source) < len(stages) - 1:
            return []
    elif source.lower() in known:
        return []
    return [Hit(C.COPY_FROM_UNDEFINED, f"COPY --from={source} names no earlier stage", ins)]


def _run_hits(ins: Instruction, stage: Optional[Stage], previous: Optional[Instruction],
              previous_commands: int) -> Tuple[List[Hit], int]:
    text = sh.run_script(ins.args, ins.exec_form(), ins.heredoc)
    script = sh.parse_script(text)
    out: List[Hit] = []
    if sh.CURL_PIPE.search(text):
        out.append(Hit(C.CURL_PIPE, "RUN pipes a downloaded script into a shell", ins))
    if script.sudo or any(sh.program(c) == "sudo" for c in script.commands):
        out.append(Hit(C.SUDO, "RUN uses sudo", ins))
    if any(sh.program(c) == "cd" for c in script.commands):
        out.append(Hit(C.CD_IN_RUN, "RUN changes directory with cd", ins))
    for check, finder, tool in ((C.APT_UNPINNED, sh.apt_unpinned, "apt-get install"),
                                (C.APK_UNPINNED, sh.apk_unpinned, "apk add"),
                                (C.PIP_UNPINNED, sh.pip_unpinned, "pip install"),
                                (C.NPM_UNPINNED, sh.npm_unpinned, "npm install"),
                                (C.GEM_UNPINNED, sh.gem_unpinned, "gem install")):
        loose = [p for c in script.commands for p in finder(c)]
        if loose:
            shown = ", ".join(loose[:5]) + (" ..." if len(loose) > 5 else "")
            out.append(Hit(check, f"{tool} without versions: {shown}", ins))
    installs = [c for c in script.commands if sh.apt_install(c) is not None]
    if any(not sh.apt_assumes_yes(c) for c in installs):
        out.append(Hit(C.APT_NO_YES, "apt-get install without -y", ins))
    if any(not sh.apt_no_recommends(c) for c in installs):
        out.append(Hit(C.APT_RECOMMENDS, "apt-get install without --no-install-recommends", ins))
    cached = "/var/lib/apt/lists" in ins.flags.get("mount", "")
    if stage is not None and sh.runs_apt_update(script) and not sh.removes_apt_lists(script) and not cached:
        stage.apt_unclean.append(ins)
    if script.pipes and not (stage and stage.shell_pipefail) and not sh.sets_pipefail(script) \
            and ins.exec_form() is None:
        out.append(Hit(C.PIPEFAIL, "RUN has a pipe but pipefail is not set", ins))
    commands = len(script.commands)
    # hadolint's DL3059 spares chained RUNs (the split was deliberate): only single-command RUNs count.
    if previous is not None and previous.flags == ins.flags and commands <= 1 and previous_commands <= 1:
        out.append(Hit(C.CONSECUTIVE_RUN, f"RUN follows the RUN at line {previous.line}", ins))
    return out, commands


def lint_instructions(instructions: List[Instruction]) -> List[Hit]:
    """Every rule over one Dockerfile's instructions."""
    hits: List[Hit] = []
    stages: List[Stage] = []
    known: Dict[str, Stage] = {}
    previous_run: Optional[Instruction] = None
    previous_commands = 0
    for ins in instructions:
        stage = stages[-1] if stages else None
        if ins.keyword == "FROM":
            image, alias = _from_parts(ins.args)
            hits += _base_hits(ins, image, known)
            new = Stage(len(stages), ins, image, alias)
            parent = known.get(image.lower())
            if parent is not None:  # FROM an earlier stage inherits its USER and SHELL
                new.user, new.inherited_from = parent.user, parent.alias or str(parent.index)
                new.shell_pipefail = parent.shell_pipefail
            stages.append(new)
            if alias:
                known[alias.lower()] = new
        elif ins.keyword == "USER" and stage is not None:
            stage.user, stage.inherited_from = (ins.args.strip(), ins), ""
        elif ins.keyword == "SHELL" and stage is not None:
            words = ins.exec_form() or ins.args.split()
            stage.shell_pipefail = "pipefail" in words or not re.search(r"(?:^|/)(?:ba|z|k|a|da)?sh$",
                                                                        words[0] if words else "")
        elif ins.keyword == "WORKDIR":
            path = ins.args.strip().strip("\"'")
            if path and not path.startswith(("/", "$")) and not re.match(r"^[A-Za-z]:[\\/]", path):
                hits.append(Hit(C.WORKDIR_RELATIVE, f"WORKDIR {path} is relative", ins))
        elif ins.keyword == "ADD":
            hits += _add_hits(ins)
        elif ins.keyword == "COPY":
            hits += _copy_from_hits(ins, stages, known)
        elif ins.keyword in ("CMD", "ENTRYPOINT"):
            if ins.exec_form() is None and ins.args.strip():
                hits.append(Hit(C.SHELL_FORM_CMD, f"{ins.keyword} in shell form: /bin/sh is PID 1 and does not "
                                                  f"forward SIGTERM", ins))
            if stage is not None:
                attr = "cmds" if ins.keyword == "CMD" else "entrypoints"
                setattr(stage, attr, getattr(stage, attr) + 1)
                if getattr(stage, attr) > 1:
                    check = C.MULTIPLE_CMD if ins.keyword == "CMD" else C.MULTIPLE_ENTRYPOINT
                    hits.append(Hit(check, f"another {ins.keyword} in this stage: only the last one applies", ins))
        elif ins.keyword == "EXPOSE":
            hits += _expose_hits(ins)
        elif ins.keyword == "MAINTAINER":
            hits.append(Hit(C.MAINTAINER, "MAINTAINER is deprecated", ins))
        elif ins.keyword in ("ENV", "ARG"):
            hits += _secret_hits(ins)
        if ins.keyword == "RUN":
            more, previous_commands = _run_hits(ins, stage, previous_run, previous_commands)
            hits += more
            previous_run = ins
        else:
            previous_run = None
    hits += _final_stage_hits(stages)
    return hits


def _final_stage_hits(stages: List[Stage]) -> List[Hit]:
    if not stages:
        return []
    final = stages[-1]
    hits: List[Hit] = []
    # apt lists matter in the image that ships: the final stage and the stages it is built FROM.
    shipped = {id(final)}
    used_as_base = {s.image.lower() for s in stages}
    for stage in stages:
        if id(stage) in shipped or (stage.alias and stage.alias.lower() in used_as_base):
            hits += [Hit(C.APT_LISTS, "apt-get update without rm -rf /var/lib/apt/lists/* in the same RUN", ins)
                     for ins in stage.apt_unclean]
    if final.user is None:
        hits.append(Hit(C.USER_UNSET, f"final stage (FROM at line {final.start.line}) has no USER instruction"
                    + (f" (nor has stage {final.inherited_from})" if final.inherited_from else ""), final.start))
    elif _is_root(final.user[0]):
        where = f" (inherited from stage {final.inherited_from})" if final.inherited_from else ""
        hits.append(Hit(C.NO_USER, f"final stage runs as USER {final.user[0]}{where}", final.user[1]))
    return hits
