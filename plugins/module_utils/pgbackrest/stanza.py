# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server side of a stanza: archive settings (ALTER SYSTEM + reload), stanza-create, check.

Idempotent: a setting already at its value and an existing stanza change nothing. archive_mode and
wal_level take effect only at a restart, which this code never does (the service name and the moment
belong to the operator): it says restart_required and the role stops with that message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ..pg.connection import ConnParams
from ..verdict import FAIL, PASS, PENDING, make_verdict, measurement
from .command import PgBackRest, stanza_missing
from .config import archive_command
from .source import alter_system, settings

RESTART_SETTINGS = ("archive_mode", "wal_level")


@dataclass
class StanzaPlan:
    changes: Dict[str, Dict[str, str]] = field(default_factory=dict)  # setting -> {before, after}
    create_stanza: bool = False
    restart_required: List[str] = field(default_factory=list)


def wanted_settings(runner: PgBackRest, current: Dict[str, Dict[str, Any]],
                    archive_timeout: Optional[int] = None) -> Dict[str, str]:
    """archive_mode on, wal_level at least replica (logical stays), archive_command pushing to the stanza."""
    wanted = {"archive_mode": "on", "archive_command": archive_command(runner.config.path, runner.config.stanza,
                                                                       runner.binary)}
    if (current.get("wal_level") or {}).get("setting") not in ("replica", "logical"):
        wanted["wal_level"] = "replica"
    if archive_timeout is not None:
        wanted["archive_timeout"] = str(archive_timeout)
    return wanted


def plan(runner: PgBackRest, source: ConnParams, archive_timeout: Optional[int] = None) -> StanzaPlan:
    current = settings(source)
    result = StanzaPlan()
    for name, value in wanted_settings(runner, current, archive_timeout).items():
        now = (current.get(name) or {}).get("setting", "")
        # archive_mode 'always' also archives; archive_timeout is read in seconds
        if now == value or (name == "archive_mode" and now == "always"):
            if (current.get(name) or {}).get("pending_restart"):
                result.restart_required.append(name)
            continue
        result.changes[name] = {"before": now, "after": value}
        if name in RESTART_SETTINGS:
            result.restart_required.append(name)
    result.create_stanza = stanza_missing(runner.info())
    return result


def apply(runner: PgBackRest, source: ConnParams, the_plan: StanzaPlan, check: bool = True) -> Dict[str, Any]:
    """Carry out the plan; stanza-create and check only when no restart is pending (they would fail)."""
    if the_plan.changes:
        alter_system(source, {k: v["after"] for k, v in the_plan.changes.items()})
    out: Dict[str, Any] = {"stanza_created": False, "check": None}
    if the_plan.restart_required:
        return out
    if the_plan.create_stanza:
        runner.run("stanza-create", timeout=600, check=True)
        out["stanza_created"] = True
    if check:
        run = runner.run("check", timeout=600)
        out["check"] = {"ok": run.returncode == 0, "error": "" if run.returncode == 0 else run.error_text(),
                        "duration_s": run.duration_s}
    return out


def stanza_verdict(runner: PgBackRest, the_plan: StanzaPlan, applied: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    where = f"stanza {runner.config.stanza} ({runner.config.repo_where()})"
    if applied is None:
        return make_verdict(PENDING, f"check mode: {where} would change {sorted(the_plan.changes) or 'no setting'}"
                            f"{', stanza-create' if the_plan.create_stanza else ''}; archiving not checked")
    if the_plan.restart_required:
        return make_verdict(PENDING, f"{where}: PostgreSQL must be restarted for {', '.join(the_plan.restart_required)} "
                            "to take effect; WAL archiving not checked yet")
    check = applied["check"]
    if check is None:
        return make_verdict(PENDING, f"{where}: configured; WAL archiving not checked (check: false)")
    m = [measurement("archive_check", 1 if check["ok"] else 0, "bool", 1, "==")]
    if not check["ok"]:
        return make_verdict(FAIL, f"WAL archiving broken for {where}: pgbackrest check failed: {check['error']}",
                            findings={"wal_archiving_broken": 1}, measurements=m)
    return make_verdict(PASS, f"{where}: archive_command pushes WAL to the repository (pgbackrest check passed)",
                        measurements=m)
