# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollback rehearsal's verdict with the database down-path in it (pg/down_path.py), or with a
summary that says the down-path was skipped: a rollback is only proven when the data can go back too."""

from __future__ import annotations

from typing import Any, Dict, Optional

from ..pg.down_path import DownPathOptions, plan_down_path, rehearse_down_path
from ..verdict import make_verdict, measurement, merge

SKIPPED = "database down-path: skipped (no database configured)"


def with_database(result: Dict[str, Any], opts: Optional[DownPathOptions], check_mode: bool) -> Dict[str, Any]:
    """The rollback result with `database` (the down-path's result) and one verdict for both. The
    down-path's time is added to the production estimate: a rollback is done when the schema is back."""
    verdict = result["verdict"]
    if opts is None:
        result["database"] = {"skipped": True}
        result["verdict"] = dict(verdict, summary=f"{verdict['summary']}; {SKIPPED}")
        return result
    db = plan_down_path(opts) if check_mode else rehearse_down_path(opts)
    result["database"] = {k: v for k, v in db.items() if k != "verdict"}
    parts = [verdict, db["verdict"]]
    summary = f"{verdict['summary']}; {db['verdict']['summary']}"
    down = (db.get("timings") or {}).get("down")
    estimate = result.get("rollback_estimate_seconds")
    if down is not None and estimate is not None:
        total = round(estimate + down, 2)
        result["rollback_with_database_estimate_seconds"] = total
        parts.append(make_verdict(verdict["status"], "", measurements=[measurement(
            "rollback_with_database_estimate_seconds", total, "s", opts.max_down_seconds, "<=")]))
        if opts.max_down_seconds is not None and total > opts.max_down_seconds:
            summary += (f"; production rollback with the down migration estimated at {total:.0f}s, over the SLA "
                        f"of {opts.max_down_seconds:.0f}s")
    result["verdict"] = merge(summary, parts)
    return result
