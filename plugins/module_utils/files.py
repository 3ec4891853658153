# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files on disk: the one sha256 of a file (or of a stream) and the one directory walk.

Every capability hashes artifacts and walks trees; doing it in one place keeps the rules identical
everywhere: fixed-size reads (constant memory), symlinks never followed, a stable order, and a
directory that cannot be listed is either an error or reported, never silently skipped.
"""

from __future__ import annotations

import hashlib
import os
from typing import BinaryIO, Callable, Iterator, List, Optional, Tuple

CHUNK = 1 << 20


def sha256_stream(handle: BinaryIO, chunk: int = CHUNK) -> str:
    """Hex sha256 of what a binary file object yields from its current position to EOF."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(chunk), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256_file(path: str, chunk: int = CHUNK) -> str:
    """Hex sha256 of a file's content, read in fixed-size chunks."""
    with open(path, "rb") as handle:
        return sha256_stream(handle, chunk)


def plan_destination(dest: str) -> Tuple[Optional[str], List[str], List[str]]:
    """(directory to judge, problems, notes) for a destination directory a check-mode plan will write to.

    On a first run the destination may not exist yet: whoever runs the backup creates it first (the
    roles do). The plan then judges the nearest existing directory above it (permissions, free space)
    and says so in a note, instead of failing a --check on a fresh host. The directory is None when
    there is nothing writable to judge."""
    target = where = os.path.abspath(dest or ".")
    while not os.path.lexists(where) and os.path.dirname(where) != where:
        where = os.path.dirname(where)
    problems: List[str] = []
    notes: List[str] = []
    if where != target and os.path.isdir(where):
        notes.append(f"destination {dest} does not exist yet: it must be created before the backup "
                     f"(free space and permissions checked on {where})")
    if not dest or not os.path.isdir(where):
        problems.append(f"destination {dest} does not exist or is not a directory")
        return None, problems, notes
    if not os.access(where, os.W_OK | os.X_OK):
        problems.append(f"destination {dest} is not writable" if where == target else
                        f"destination {dest} cannot be created: {where} is not writable")
        return None, problems, notes
    return where, problems, notes


def walk_entries(root: str, excluded=frozenset(),
                 on_error: Optional[Callable[[str, OSError], None]] = None) -> Iterator[Tuple[str, os.DirEntry]]:
    """(relative path, os.DirEntry) of everything under root in a stable order: a directory's entries
    sorted by name, then each of its subdirectories the same way (the order of os.walk, sorted).
    Symlinks are yielded but never followed; directories named in `excluded` are neither yielded nor
    entered. A directory that cannot be listed, or an entry whose type cannot be read, raises OSError
    unless on_error(relative path, error) takes it (e.g. reports it and goes on); root is "" there."""
    pending = [""]  # directories still to list; a stack, so deep trees never hit the recursion limit
    while pending:
        rel_dir = pending.pop()
        try:
            with os.scandir(os.path.join(root, rel_dir)) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            if on_error is None:
                raise
            on_error(rel_dir, exc)
            continue
        subdirs = []
        for entry in entries:
            rel = os.path.join(rel_dir, entry.name) if rel_dir else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError as exc:
                if on_error is None:
                    raise
                on_error(rel, exc)
                continue
            if is_dir and entry.name in excluded:
                continue
            yield rel, entry
            if is_dir:
                subdirs.append(rel)
        pending.extend(reversed(subdirs))


def walk_files(root: str, excluded=frozenset((".git",)), stats=None) -> Iterator[str]:
    """Relative paths of the regular files under root (see walk_entries); symlinks are not followed.

    stats, when given, is told what could not be read (secrets.ScanStats: `unreadable(rel, reason)`
    for a directory that cannot be listed or an entry whose type cannot be read, `note(text)` for a
    symlink not followed), so a scan can say it did not see everything instead of looking complete."""
    def on_error(rel: str, exc: OSError) -> None:
        if stats is not None:
            stats.unreadable(rel or ".", f"cannot list directory: {exc.strerror or exc}")

    for rel, entry in walk_entries(root, excluded, on_error):
        try:
            if entry.is_symlink():
                if stats is not None and not os.path.exists(entry.path):
                    stats.note(f"{rel}: dangling or looping symlink, not followed")
                continue
            if entry.is_file(follow_symlinks=False):
                yield rel
        except OSError as exc:
            if stats is not None:
                stats.unreadable(rel, str(exc.strerror or exc))
