# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pgBackRest configuration file of one stanza, read back as a small dataclass.

Everything lives in one file passed with --config (no global files): repository, log, lock and spool
paths in [global], the cluster in [<stanza>]. The role writes the file; the modules read it to know the
data directory, the socket and the repository instead of asking the user twice.
"""

from __future__ import annotations

import configparser
import os
import shlex
from dataclasses import dataclass, field
from typing import Dict, Optional

from . import PgBackRestError


@dataclass
class StanzaConfig:
    path: str
    stanza: str
    pg_path: str
    pg_port: int = 5432
    pg_socket_path: Optional[str] = None
    pg_user: Optional[str] = None
    repo_type: str = "posix"
    repo_path: Optional[str] = None
    settings: Dict[str, str] = field(default_factory=dict)  # every key of [global] and [stanza]

    def repo_where(self) -> str:
        if self.repo_type == "s3":
            return f"s3://{self.settings.get('repo1-s3-bucket', '?')}{self.repo_path or ''}"
        return self.repo_path or "/var/lib/pgbackrest"


def read_config(path: str, stanza: str) -> StanzaConfig:
    """Parse the configuration file `path` for `stanza`; PgBackRestError naming what is missing."""
    if not os.path.isfile(path):
        raise PgBackRestError(f"pgBackRest configuration {path} does not exist (run the pgbackrest role first)")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # pgBackRest keys are case-sensitive
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error) as exc:
        raise PgBackRestError(f"cannot read pgBackRest configuration {path}: {exc}") from None
    if not parser.has_section(stanza):
        raise PgBackRestError(f"pgBackRest configuration {path} has no [{stanza}] section "
                              f"(sections: {', '.join(parser.sections()) or 'none'})")
    settings = dict(parser.items("global")) if parser.has_section("global") else {}
    settings.update(parser.items(stanza))
    pg_path = settings.get("pg1-path")
    if not pg_path:
        raise PgBackRestError(f"pgBackRest configuration {path}: [{stanza}] has no pg1-path")
    try:
        port = int(settings.get("pg1-port", "5432"))
    except ValueError:
        raise PgBackRestError(f"pgBackRest configuration {path}: pg1-port {settings['pg1-port']!r} "
                              "is not a number") from None
    return StanzaConfig(path=path, stanza=stanza, pg_path=pg_path, pg_port=port,
                        pg_socket_path=settings.get("pg1-socket-path"), pg_user=settings.get("pg1-user"),
                        repo_type=settings.get("repo1-type", "posix"), repo_path=settings.get("repo1-path"),
                        settings=settings)


def archive_command(config_path: str, stanza: str, binary: str = "pgbackrest") -> str:
    """The archive_command that pushes each finished WAL segment into the stanza's repository."""
    return f"{shlex.quote(binary)} --config={shlex.quote(config_path)} --stanza={shlex.quote(stanza)} archive-push %p"
