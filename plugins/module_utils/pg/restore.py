# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore an artifact with the real pg_restore (or psql for plain dumps), into a target or a scratch DB."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..archive import (ArchiveError, TarSink, load_identities, load_manifest, manifest_path, read_artifact,
                       split_stderr)
from . import PgError
from .connection import ConnParams, connect, quote_ident, server_version
from .content import is_empty
from .restore_stream import FifoStart, streamed_member
from .tools import find_tool


@dataclass
class RestoreOptions:
    jobs: int = 2
    clean: bool = False
    create: bool = False
    force: bool = False
    no_owner: bool = False
    no_privileges: bool = False
    identity_file: Optional[str] = None
    manifest_file: Optional[str] = None
    work_dir: Optional[str] = None
    bindir: Optional[str] = None


def load_backup(path: str, manifest_file: Optional[str] = None) -> Dict[str, Any]:
    """The artifact's manifest, after checking both exist and the manifest is intact."""
    if not os.path.isfile(path):
        raise PgError(f"backup artifact {path} does not exist")
    return load_manifest(manifest_file or manifest_path(path))


def restore_argv(tool: str, fmt: str, dbname: str, opts: RestoreOptions, source_file: Optional[str]) -> List[str]:
    if fmt == "plain":
        return [tool, "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", f"--dbname={dbname}",
                "-f", source_file or "-"]
    argv = [tool, "--no-password", "--exit-on-error", f"--dbname={dbname}"]
    if source_file and opts.jobs > 1:
        argv.append(f"--jobs={opts.jobs}")
    if opts.clean:
        argv += ["--clean", "--if-exists"]
    if opts.create:
        argv.append("--create")
    if opts.no_owner:
        argv.append("--no-owner")
    if opts.no_privileges:
        argv.append("--no-privileges")
    if source_file:
        argv.append(source_file)
    return argv


def _check_plaintext(path: str, manifest: Dict[str, Any], result) -> None:
    if result.error:
        raise PgError(f"cannot restore {path}: {result.error}")
    plain = manifest["plaintext"]
    if (result.plaintext_bytes, result.plaintext_sha256) != (plain["bytes"], plain["sha256"]):
        raise PgError(f"cannot restore {path}: its content ({result.plaintext_bytes} bytes, sha256 "
                      f"{result.plaintext_sha256}) differs from the manifest ({plain['bytes']} bytes, {plain['sha256']})")


def _feed(path: str, sink: TarSink, encrypted: bool, identities) -> Tuple[Any, Optional[BaseException]]:
    """Decrypt/decompress the artifact straight into the TarSink, in this thread (no pipe and no second
    thread: the pipe's 64 KiB hand-offs cost more than the work, measured), then close the sink.
    (read_artifact's result or None, the error of the feed or the close; after an error the sink is
    discarded)."""
    result = None
    try:
        result = read_artifact(path, sink, encrypted=encrypted, identities=identities)
        sink.close()  # a FIFO member is closed here at the latest: its reader sees the end of the data
        return result, None
    except (ArchiveError, OSError) as exc:
        try:
            sink.discard()
        except OSError:
            pass
        return result, exc


def _unpack_directory(path: str, dest: str, encrypted: bool, identities) -> Any:
    """Unpack the artifact (safely) into dest."""
    result, error = _feed(path, TarSink(dest), encrypted, identities)
    if result is not None and result.error:  # undecryptable or corrupt: the cause of any tar error that follows
        raise PgError(f"cannot restore {path}: {result.error}")
    if error is not None:
        raise PgError(f"cannot unpack {path} into {dest}: {error}")
    return result


def _restore_streaming(path: str, dest: str, manifest: Dict[str, Any], encrypted: bool, identities,
                       start: FifoStart, stderr_file, tool: str, dbname: str) -> List[str]:
    """Unpack into dest while pg_restore (started by `start` at the last member) reads that member from a
    FIFO; then the same checks as before a restore: the artifact's own errors first (they explain any tar
    or pg_restore error that follows), pg_restore's, and the plaintext against the manifest."""
    try:
        result, feed_error = _feed(path, TarSink(dest, open_member=start), encrypted, identities)
        if result is not None and result.error:
            raise PgError(f"cannot restore {path}: {result.error}")
        if feed_error is not None:
            if start.proc is not None:
                if "Broken pipe" in str(feed_error):
                    try:  # pg_restore stopped reading
                        start.proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        pass
                if start.proc.poll():  # pg_restore failed first: its own error is the cause
                    _finish(start.proc, stderr_file, tool, dbname)
            raise PgError(f"cannot unpack {path} into {dest}: {feed_error}")
        if start.proc is None:
            raise PgError(f"cannot unpack {path} into {dest}: its last member {start.member} never came")
        warnings = _finish(start.proc, stderr_file, tool, dbname)
        _check_plaintext(path, manifest, result)
        return warnings
    finally:
        start.stop()


def _finish(proc: subprocess.Popen, stderr_file, tool: str, target: str) -> List[str]:
    code = proc.wait()
    stderr_file.seek(0)
    errors, warnings = split_stderr(stderr_file.read(65536).decode("utf-8", "replace"))
    if code != 0 or errors:
        detail = "; ".join(errors[-5:] or warnings[-5:]) or "no message"
        raise PgError(f"{os.path.basename(tool)} into {target} failed (exit status {code}): {detail}")
    return warnings


def restore_into(params: ConnParams, path: str, manifest: Dict[str, Any], opts: RestoreOptions,
                 server_major: int, dbname: str, stream_last: bool = False) -> Dict[str, Any]:
    """Feed the artifact's plaintext to pg_restore/psql connected to `dbname`.

    Parallel custom-format restores need a seekable file: the plaintext then goes to a 0600 temporary
    file in work_dir first. Otherwise it is piped straight into the tool's stdin. Directory backups are
    unpacked and checked before pg_restore starts, unless stream_last (scratch databases only, see
    restore_stream.py) lets pg_restore start while their largest table file still streams in.
    """
    fmt = manifest["source"].get("format", "custom")
    encrypted = bool(manifest["encryption"])
    identities = load_identities(opts.identity_file) if encrypted and opts.identity_file else []
    if encrypted and not identities:
        raise PgError(f"{path} is age-encrypted: set identity_file to restore it")
    tool = find_tool("psql" if fmt == "plain" else "pg_restore", server_major, opts.bindir)
    env = params.env()
    started = time.monotonic()
    stderr_file = tempfile.TemporaryFile()
    tmp_path = tmp_dir = streamed = None
    try:
        if fmt == "directory":
            tmp_dir = tempfile.mkdtemp(prefix=".restore-dir-", dir=opts.work_dir)
            dump_dir = os.path.join(tmp_dir, "dump")
            os.mkdir(dump_dir, 0o700)
            argv = restore_argv(tool, fmt, dbname, opts, dump_dir)
            member = streamed_member(manifest) if stream_last else None
            if member:
                start = FifoStart(member, argv, env, stderr_file)
                warnings = _restore_streaming(path, dump_dir, manifest, encrypted, identities, start, stderr_file,
                                              tool, dbname)
                unpacked, streamed = start.started_at, member
            else:
                result = _unpack_directory(path, dump_dir, encrypted, identities)
                _check_plaintext(path, manifest, result)
                unpacked = time.monotonic()
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=stderr_file, env=env)
                warnings = _finish(proc, stderr_file, tool, dbname)
        elif fmt == "custom" and opts.jobs > 1:
            fd, tmp_path = tempfile.mkstemp(prefix=".restore-", suffix=".dump", dir=opts.work_dir)
            with os.fdopen(fd, "wb") as handle:
                try:
                    result = read_artifact(path, handle, encrypted=encrypted, identities=identities)
                except ArchiveError as exc:
                    raise PgError(f"cannot unpack {path} into {tmp_path}: {exc}") from None
            _check_plaintext(path, manifest, result)
            unpacked = time.monotonic()
            proc = subprocess.Popen(restore_argv(tool, fmt, dbname, opts, tmp_path), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=stderr_file, env=env)
            warnings = _finish(proc, stderr_file, tool, dbname)
        else:
            proc = subprocess.Popen(restore_argv(tool, fmt, dbname, opts, None), stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL, stderr=stderr_file, env=env)
            feed_error = None
            try:
                result = read_artifact(path, proc.stdin, encrypted=encrypted, identities=identities)
            except ArchiveError as exc:
                feed_error, result = exc, None
            finally:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
            unpacked = None
            warnings = _finish(proc, stderr_file, tool, dbname)  # the tool's own error explains a broken pipe
            if feed_error:
                raise PgError(str(feed_error))
            _check_plaintext(path, manifest, result)
    finally:
        stderr_file.close()
        if tmp_path and os.path.exists(tmp_path):
            os.unlink(tmp_path)
        if tmp_dir:
            shutil.rmtree(tmp_dir, ignore_errors=True)
    done = time.monotonic()
    return {"tool": tool, "format": fmt, "jobs": opts.jobs if fmt in ("custom", "directory") and opts.jobs > 1 else 1,
            "duration_s": round(done - started, 3),
            "unpack_s": round(unpacked - started, 3) if unpacked else None, "warnings": warnings,
            **({"streamed": streamed} if streamed else {})}


def plan_restore(params: ConnParams, path: str, opts: RestoreOptions) -> Dict[str, Any]:
    """What pg_restore would do, and whether it would refuse (non-empty target without force)."""
    manifest = load_backup(path, opts.manifest_file)
    conn = connect(params, autocommit=True)
    try:
        version = server_version(conn)
        target = conn.execute("SELECT current_database()").fetchone()[0]
        if opts.create:
            target = manifest["source_identity"].get("dbname") or "?"
            exists = conn.execute("SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s", (target,)).fetchone()
            occupied = f"database {target} already exists" if exists else None
        else:
            occupied = is_empty(conn)
    finally:
        conn.close()
    fmt = manifest["source"].get("format", "custom")
    if fmt == "plain" and (opts.clean or opts.create):
        raise PgError("clean and create apply to custom-format backups; a plain SQL backup is replayed as is")
    refuse = None
    if occupied and not opts.force:
        hint = "" if opts.clean else " (with clean: true to drop the backup's objects first)"
        refuse = (f"target database {target} on {params.where()} is not empty ({occupied}); "
                  f"set force: true to restore into it anyway{hint}")
    return {"artifact": path, "target": target, "server_version": version["text"], "server_major": version["major"],
            "format": fmt, "jobs": opts.jobs, "clean": opts.clean, "create": opts.create,
            "target_occupied": occupied, "refused": refuse, "manifest": manifest,
            "connect_db": params.dbname}


def restore_artifact(params: ConnParams, path: str, opts: RestoreOptions, check_mode: bool = False,
                     before_restore: Optional[Callable[[Dict[str, Any], Dict[str, Any], bool], Dict[str, Any]]] = None
                     ) -> Dict[str, Any]:
    """pg_restore module: refuse a non-empty target unless force; in check mode only plan.
    before_restore(plan, manifest, check_mode) runs once the restore is allowed and before anything is
    written (the pre-restore backup); what it returns is merged into the result, and if it raises,
    nothing is restored."""
    plan = plan_restore(params, path, opts)
    if plan["refused"]:
        raise PgError(plan["refused"])
    manifest = plan.pop("manifest")
    extra = before_restore(plan, manifest, check_mode) if before_restore else {}
    if check_mode:
        return {"plan": plan, "changed": True, **extra}
    connect_db = params.dbname if not opts.create else (params.dbname or "postgres")
    run = restore_into(params, path, manifest, opts, plan["server_major"], connect_db or plan["target"])
    return {"plan": plan, "changed": True, **run, **extra}


def create_database(admin, name: str) -> None:
    admin.execute(f"CREATE DATABASE {quote_ident(name)} TEMPLATE template0")


def drop_database(admin, name: str, server_major: int) -> None:
    force = " WITH (FORCE)" if server_major >= 13 else ""
    if not force:
        admin.execute("SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_catalog.pg_backend_pid()", (name,))
    admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}{force}")
