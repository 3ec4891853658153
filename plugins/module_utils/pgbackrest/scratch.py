# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scratch cluster restored from the repository: its own directory, a free port, Unix socket only.

The scratch cluster listens on no TCP address (listen_addresses ''): its socket sits in a 0700 directory
of os_user and its own pg_hba.conf trusts local connections, so nobody else can reach it and no password
is needed. It never archives (pgBackRest restore --archive-mode=off, and archive_mode=off on the command
line): the scratch cluster must not push WAL into the production repository. stop_and_remove() stops it
(immediate), kills what is left, removes the directory, and says whether the port is free again.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

from ..localhost import free_port, pid_alive
from . import PgBackRestError
from .command import PgBackRest

HBA = "# deploysafe.preflight scratch cluster: Unix socket only, in a 0700 directory\nlocal all all trust\n"


def port_free(port: int) -> bool:
    """No server holds the port: neither on TCP loopback nor as a Unix socket lock of ours."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Scratch:
    root: str      # removed entirely at the end
    data: str
    socket_dir: str
    port: int
    log: str
    postmaster_pid: Optional[int] = None

    def conninfo(self, user: Optional[str], dbname: str = "postgres") -> Dict[str, Any]:
        return {"host": self.socket_dir, "port": self.port, "user": user or "postgres", "dbname": dbname,
                "connect_timeout": 10, "application_name": "deploysafe.preflight"}


def make_scratch(runner: PgBackRest, base_dir: Optional[str], port: int = 0) -> Scratch:
    """An empty scratch directory tree owned by os_user (data 0700, socket dir 0700)."""
    base = base_dir or tempfile.gettempdir()
    if not os.path.isdir(base):
        raise PgBackRestError(f"scratch base directory {base} does not exist")
    root = tempfile.mkdtemp(prefix="preflight-pitr-", dir=base)
    scratch = Scratch(root=root, data=os.path.join(root, "data"), socket_dir=os.path.join(root, "sock"),
                      port=port or free_port(), log=os.path.join(root, "postgres.log"))
    for path in (scratch.data, scratch.socket_dir):
        os.mkdir(path, 0o700)
    if runner.os_user and os.geteuid() == 0:
        ent = pwd.getpwnam(runner.os_user)
        for path in (root, scratch.data, scratch.socket_dir):
            os.chown(path, ent.pw_uid, ent.pw_gid)
    os.chmod(root, 0o700)
    return scratch


def prepare_config(runner: PgBackRest, scratch: Scratch) -> None:
    """Give the restored data directory what a start needs: its own pg_hba.conf, and an empty
    postgresql.conf when the source kept its configuration outside the data directory (Debian)."""
    hba = os.path.join(scratch.root, "pg_hba.conf")
    with open(hba, "w", encoding="utf-8") as handle:
        handle.write(HBA)
    conf = os.path.join(scratch.data, "postgresql.conf")
    if not os.path.exists(conf):
        open(conf, "w", encoding="utf-8").close()
    if runner.os_user and os.geteuid() == 0:
        ent = pwd.getpwnam(runner.os_user)
        for path in (hba, conf):
            os.chown(path, ent.pw_uid, ent.pw_gid)


def start(runner: PgBackRest, scratch: Scratch, bindir: str, timeout: float) -> None:
    """pg_ctl start with the scratch settings on the command line (they beat postgresql.auto.conf)."""
    options = {"port": str(scratch.port), "listen_addresses": "''", "unix_socket_directories": scratch.socket_dir,
               "hba_file": os.path.join(scratch.root, "pg_hba.conf"), "archive_mode": "off",
               "logging_collector": "off", "log_destination": "stderr", "cluster_name": "preflight-pitr",
               "ssl": "off"}
    opts = " ".join(f"-c {k}={v}" for k, v in options.items())
    run = runner.program([os.path.join(bindir, "pg_ctl"), "start", "-D", scratch.data, "-l", scratch.log, "-w",
                          "-t", str(int(max(timeout, 5))), "-o", opts], timeout=timeout + 30, what="pg_ctl start")
    scratch.postmaster_pid = read_pid(scratch)
    if run.returncode != 0:
        raise PgBackRestError(f"the scratch cluster did not start (pg_ctl exit {run.returncode}): "
                              f"{log_tail(scratch) or run.error_text()}")


def read_pid(scratch: Scratch) -> Optional[int]:
    try:
        with open(os.path.join(scratch.data, "postmaster.pid"), encoding="utf-8") as handle:
            return int(handle.readline().strip())
    except (OSError, ValueError):
        return None


def log_tail(scratch: Scratch, lines: int = 6) -> str:
    """The scratch server's last FATAL/ERROR/LOG lines (why recovery stopped, or failed)."""
    try:
        with open(scratch.log, encoding="utf-8", errors="replace") as handle:
            text = handle.read().splitlines()
    except OSError:
        return ""
    wanted = [line for line in text if "FATAL" in line or "PANIC" in line or "ERROR" in line]
    return " / ".join((wanted or text)[-lines:])


def stop_and_remove(runner: PgBackRest, scratch: Scratch, bindir: str, keep: bool = False) -> Dict[str, Any]:
    """Stop the scratch server (immediate: its data is thrown away), kill a postmaster that stays, remove
    the directory unless keep; {stopped, removed, port_free, postmaster_pid}."""
    pid = read_pid(scratch) or scratch.postmaster_pid
    if pid and pid_alive(pid):
        runner.program([os.path.join(bindir, "pg_ctl"), "stop", "-D", scratch.data, "-m", "immediate", "-w",
                        "-t", "30"], timeout=60, what="pg_ctl stop")
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.2)
    stopped = not (pid and pid_alive(pid))
    if not keep:
        shutil.rmtree(scratch.root, ignore_errors=True)
    return {"stopped": stopped, "removed": keep or not os.path.exists(scratch.root),
            "port_free": port_free(scratch.port), "postmaster_pid": pid, "kept": keep, "root": scratch.root}
