"""Child-process plumbing: free ports, process groups, readiness waits and log tails."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

PR_SET_PDEATHSIG = 1


class ServiceError(RuntimeError):
    """A service failed to start or answer; the message names it and carries its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a free TCP port (bind to 0). Two runs at once get different ports."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could bind the port now (SO_REUSEADDR, as servers do: TIME_WAIT is not use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    # Attached mode: the kernel sends SIGTERM to the child if the harness process dies (even
    # SIGKILL), so a crashed or interrupted test run cannot leave servers behind.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv: Sequence[str], log_path: Path, *, env: Optional[dict] = None, cwd: Optional[Path] = None,
          user: Optional[str] = None, attached: bool = True) -> subprocess.Popen:
    """Start argv in its own process group with stdout+stderr to log_path."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(
            list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, user=user, start_new_session=True,
            preexec_fn=_die_with_parent if attached else None,
        )
    finally:
        log.close()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def stop_group(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the process group led by pid, then SIGKILL what is left after timeout."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.05)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def wait_until(what: str, probe: Callable[[], bool], *, timeout: float, proc: Optional[subprocess.Popen] = None,
               log_path: Optional[Path] = None, interval: float = 0.1) -> None:
    """Poll probe() until it is true; fail with the log tail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f"{what} exited with code {proc.returncode} before it was ready.\n"
                               f"--- last lines of {log_path} ---\n{log_tail(log_path) if log_path else ''}")
        try:
            if probe():
                return
        except Exception as exc:  # the probe's own failure is the "not ready yet" signal
            last_error = f"{type(exc).__name__}: {exc}"
        time.sleep(interval)
    raise ServiceError(f"{what} was not ready after {timeout:.0f}s (last probe error: {last_error or 'none'}).\n"
                       f"--- last lines of {log_path} ---\n{log_tail(log_path) if log_path else ''}")
