# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a RUN script does, for the Dockerfile lint: its simple commands (split on `&&`, `||`, `;`, `|`,
with leading `VAR=value` assignments and `sudo` removed), whether it pipes, and the package installs
that pin no version (apt-get, apk, pip, npm, gem)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

_SEPARATORS = {"&&", "||", ";", "|", "&", "(", ")", ";;", "|&", "{", "}", "\n"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
CURL_PIPE = re.compile(r"\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+)?(?:ba|z|da|k|a)?sh\b")
_PIP_VERSION = re.compile(r"(?:==|>=|<=|~=|!=|===|<|>|@)")
# A `$packages` operand counts as unpinned, as in hadolint: nothing shows its versions.
_ARCHIVE_OR_PATH = re.compile(r"(?:\.whl|\.tar\.gz|\.tgz|\.zip|\.deb|\.apk|\.gem)$|^[./~]|://|^git\+")
# A pipe inside $( ... ) or backticks is a pipe too (hadolint parses command substitutions).
_SUBSTITUTION_PIPE = re.compile(r"(?:\$\(|`)[^`]*?(?<!\|)\|(?!\|)")
# Options taking a value (so the value is not mistaken for a package name).
_APT_VALUED = {"-o", "-t", "--target-release", "-c", "--config-file"}
_APK_VALUED = {"-t", "--virtual", "-X", "--repository", "--root", "-p", "--keys-dir", "--arch", "--cache-dir"}
_PIP_VALUED = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
               "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--src",
               "--platform", "--python-version", "--implementation", "--abi", "--trusted-host", "--cache-dir",
               "--progress-bar", "--upgrade-strategy", "--log", "--proxy", "--timeout", "--retries",
               "--no-binary", "--only-binary", "--global-option", "--config-settings", "-C"}
_NPM_VALUED = {"--prefix", "--registry", "--cache", "--loglevel", "-C", "--workspace", "-w", "--omit"}
_GEM_VALUED = {"-v", "--version", "-i", "--install-dir", "-n", "--bindir", "--source", "-s", "--platform"}


@dataclass
class Script:
    """A RUN script split into simple commands."""

    commands: List[List[str]] = field(default_factory=list)
    pipes: bool = False
    sudo: bool = False
    text: str = ""


def _tokens(text: str) -> List[str]:
    lexer = shlex.shlex(text.replace("\n", " ; "), posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to a whitespace split that keeps operators apart
        return re.findall(r"&&|\|\||[;|&()]|[^\s;|&()]+", text)


def parse_script(text: str) -> Script:
    """Simple commands of a POSIX shell script (best effort; no functions, loops are flattened)."""
    script = Script(text=text)
    current: List[str] = []
    for token in _tokens(text):
        if not script.pipes and ("$(" in token or "`" in token) and _SUBSTITUTION_PIPE.search(token):
            script.pipes = True
        if token in _SEPARATORS:
            if token in ("|", "|&"):
                script.pipes = True
            if current:
                script.commands.append(current)
            current = []
            continue
        if not current and _ASSIGNMENT.match(token):
            continue
        if not current and token in ("sudo", "exec", "nohup", "time", "then", "do", "else", "!", "if", "while"):
            script.sudo = script.sudo or token == "sudo"
            continue
        current.append(token)
    if current:
        script.commands.append(current)
    return script


def run_script(args: str, exec_form: Optional[Sequence[str]], heredoc: str) -> str:
    """The shell text a RUN executes: the exec form's `sh -c` argument, the heredoc body, or the args."""
    if exec_form is not None:
        if len(exec_form) >= 3 and exec_form[1] == "-c":
            return exec_form[2]
        return " ".join(shlex.quote(a) for a in exec_form)
    return heredoc if heredoc and args.lstrip().startswith("<<") else f"{args}\n{heredoc}" if heredoc else args


def program(cmd: List[str]) -> str:
    return cmd[0].rsplit("/", 1)[-1] if cmd else ""


def _subcommand(cmd: List[str], names: Sequence[str]) -> int:
    """Index of the first non-option word after the program when it is one of names, else -1."""
    for i, word in enumerate(cmd[1:], 1):
        if word.startswith("-"):
            continue
        return i if word in names else -1
    return -1


def _operands(words: Sequence[str], valued: set) -> List[str]:
    out, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            if word in valued:
                skip = True
            continue
        out.append(word)
    return out


def apt_install(cmd: List[str]) -> Optional[List[str]]:
    """The words after `install` of an apt-get install command, else None."""
    if program(cmd) != "apt-get":
        return None
    index = _subcommand(cmd, ("install",))
    return cmd[index + 1:] if index > 0 else None


def apt_unpinned(cmd: List[str]) -> List[str]:
    words = apt_install(cmd)
    if words is None:
        return []
    return [p for p in _operands(words, _APT_VALUED) if "=" not in p and not _ARCHIVE_OR_PATH.search(p)]


def apt_assumes_yes(cmd: List[str]) -> bool:
    flags = [w for w in cmd[1:] if w.startswith("-")]
    return any(f in ("--yes", "--assume-yes", "-qq", "-q=2", "--quiet=2") or
               (re.match(r"^-[a-z]+$", f) and ("y" in f or f.count("q") >= 2)) for f in flags)


def apt_no_recommends(cmd: List[str]) -> bool:
    return "--no-install-recommends" in cmd or any("Install-Recommends=false" in w or "Install-Recommends=0" in w
                                                   for w in cmd)


def apk_unpinned(cmd: List[str]) -> List[str]:
    if program(cmd) != "apk":
        return []
    index = _subcommand(cmd, ("add",))
    if index < 0:
        return []
    return [p for p in _operands(cmd[index + 1:], _APK_VALUED) if "=" not in p and not _ARCHIVE_OR_PATH.search(p)]


def pip_unpinned(cmd: List[str]) -> List[str]:
    words = cmd
    if program(cmd).startswith("python") and len(cmd) > 2 and cmd[1] == "-m" and cmd[2].startswith("pip"):
        words = cmd[2:]
    if not re.match(r"^pip(?:\d(?:\.\d+)?)?$", program(words)):
        return []
    index = _subcommand(words, ("install",))
    if index < 0:
        return []
    return [p for p in _operands(words[index + 1:], _PIP_VALUED)
            if not _PIP_VERSION.search(p) and not _ARCHIVE_OR_PATH.search(p)]


def npm_unpinned(cmd: List[str]) -> List[str]:
    if program(cmd) != "npm":
        return []
    index = _subcommand(cmd, ("install", "i", "add"))
    if index < 0:
        return []
    out = []
    for p in _operands(cmd[index + 1:], _NPM_VALUED):
        name_version = p[1:] if p.startswith("@") else p  # @scope/name@1.2
        if "@" not in name_version and not _ARCHIVE_OR_PATH.search(p) and ":" not in p:
            out.append(p)
    return out


def gem_unpinned(cmd: List[str]) -> List[str]:
    if program(cmd) != "gem":
        return []
    index = _subcommand(cmd, ("install",))
    if index < 0 or any(w in ("-v", "--version") or w.startswith("--version=") for w in cmd[index + 1:]):
        return []
    return [p for p in _operands(cmd[index + 1:], _GEM_VALUED) if ":" not in p and not _ARCHIVE_OR_PATH.search(p)]


def removes_apt_lists(script: Script) -> bool:
    return any(program(c) == "rm" and any(w.startswith("/var/lib/apt/lists") for w in c) for c in script.commands)


def runs_apt_update(script: Script) -> bool:
    return any(program(c) == "apt-get" and _subcommand(c, ("update",)) > 0 for c in script.commands)


def sets_pipefail(script: Script) -> bool:
    return any(program(c) == "set" and "pipefail" in c for c in script.commands)
