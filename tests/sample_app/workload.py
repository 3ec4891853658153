"""The endpoints the shipped load profiles call (roles/load_test/files/locustfile.py and k6_script.js).

Each costs something real: PostgreSQL round trips, CPU (hashing, parsing, ranking) and disk I/O, bounded
by a size parameter so that a test stays fast. Heavy work runs in a thread so health checks still answer.
State that has no table (executions, audit log, users, added knowledge) lives in memory, bounded.
"""

from __future__ import annotations

import ast
import asyncio
import collections
import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from typing import Any, Dict

from aiohttp import web

from jsonweb import json_body as _body, json_response as _json
from knowledge import KnowledgeBase

MAX_PROJECT_FILES = 200
MAX_DATASET_ROWS = 100_000
MAX_ANALYSIS_FILES = 200
AUDIT_KEEP = 1000
USERS_KEEP = 1000


def _bad(message: str) -> web.Response:
    return _json({"error": message}, status=400)


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name, str(default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"{name} must be an integer in {low}..{high}"}),
                                 content_type="application/json")
    return int(raw)


def _audit(app: web.Application, action: str, detail: Dict[str, Any]) -> None:
    app["audit"].append({"at": time.time(), "action": action, **detail})


async def _in_thread(func, *args):
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)


# --- PlatformUser -------------------------------------------------------------------------------------

async def trigger_execution(request: web.Request) -> web.Response:
    """Run a workflow's steps: read it from PostgreSQL, hash each step (CPU), record the execution."""
    wf = request.match_info["workflow_id"]
    rows = await request.app["db"].query("SELECT id, workspace_id, name, steps FROM workflows WHERE id = %s",
                                         (int(wf),))
    if not rows:
        return _json({"error": f"workflow {wf} does not exist"}, status=404)
    steps = rows[0]["steps"] or ["noop"]
    digest = hashlib.sha256()
    for step in steps:
        for _ in range(200):
            digest.update(str(step).encode())
    executions = request.app["executions"]
    execution = {"id": len(executions) + 1, "workflow_id": int(wf), "status": "succeeded",
                 "steps": len(steps), "digest": digest.hexdigest()[:16]}
    executions.append(execution)
    _audit(request.app, "execution.trigger", {"workflow_id": int(wf)})
    return _json(execution, status=201)


async def knowledge_search(request: web.Request) -> web.Response:
    """Ranked search over every item of the knowledge base (scores each one: the cost grows with its size)."""
    q = request.query.get("q", "").strip()
    if not q:
        return _bad("q is required")
    limit = _int_param(request, "limit", 10, 1, 100)
    kb: KnowledgeBase = request.app["kb"]
    items = request.app["faults"].rank(kb.search_ranked(q, limit))
    return _json({"query": q, "count": len(items), "items": items, "size": len(kb.items)})


async def complex_search(request: web.Request) -> web.Response:
    """Boolean search: all / any / none term lists through the index, then ranked."""
    body = await _body(request)
    groups = {k: body.get(k, []) for k in ("all", "any", "none")}
    if not all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in groups.values()):
        return _bad("all, any and none must be lists of strings")
    if not groups["all"] and not groups["any"]:
        return _bad("give at least one term in all or any")
    limit = body.get("limit", 20)
    if not isinstance(limit, int) or not 1 <= limit <= 100:
        return _bad("limit must be an integer in 1..100")
    items = request.app["kb"].search_boolean(groups["all"], groups["any"], groups["none"], limit)
    return _json({"count": len(items), "items": items})


async def add_knowledge(request: web.Request) -> web.Response:
    body = await _body(request)
    title, text = body.get("title"), body.get("body", "")
    if not isinstance(title, str) or not 1 <= len(title) <= 200 or not isinstance(text, str) or len(text) > 10_000:
        return _bad("title (1..200 characters) and body (up to 10,000 characters) are required")
    item = request.app["kb"].add(title, text)
    _audit(request.app, "knowledge.add", {"item": item["id"]})
    return _json(item, status=201)


# --- AdminUser ----------------------------------------------------------------------------------------

async def system_metrics(request: web.Request) -> web.Response:
    """Process and host figures read from /proc (I/O), plus request totals."""
    def read() -> Dict[str, Any]:
        with open("/proc/self/status") as fh:
            status = dict(line.split(":", 1) for line in fh if ":" in line)
        with open("/proc/loadavg") as fh:
            load = fh.read().split()[:3]
        usage = shutil.disk_usage(tempfile.gettempdir())
        return {"rss_kb": int(status.get("VmRSS", "0 kB").split()[0]), "threads": int(status.get("Threads", "1")),
                "load_average": [float(x) for x in load], "tmp_free_mb": usage.free // 2**20}
    data = await _in_thread(read)
    data["requests_total"] = sum(request.app["metrics"].requests.values())
    data["executions"] = len(request.app["executions"])
    return _json(data)


async def audit_logs(request: web.Request) -> web.Response:
    limit = _int_param(request, "limit", 50, 1, AUDIT_KEEP)
    action = request.query.get("action", "")
    entries = [e for e in reversed(request.app["audit"]) if not action or e["action"].startswith(action)]
    return _json({"items": entries[:limit], "count": min(len(entries), limit), "total": len(request.app["audit"])})


async def list_users(request: web.Request) -> web.Response:
    users = request.app["users"]
    return _json({"items": [{k: v for k, v in u.items() if k != "key"} for u in users.values()],
                  "count": len(users)})


async def create_user(request: web.Request) -> web.Response:
    """Creates a user with a derived API key (PBKDF2: deliberate CPU cost, as real credential storage has)."""
    body = await _body(request)
    name, role = body.get("name"), body.get("role", "member")
    if not isinstance(name, str) or not 1 <= len(name) <= 100 or role not in ("member", "admin", "viewer"):
        return _bad("name (1..100 characters) and role (member, admin or viewer) are required")
    users = request.app["users"]
    if name in users:
        return _json({"error": f"user {name!r} exists"}, status=409)
    key = await _in_thread(hashlib.pbkdf2_hmac, "sha256", name.encode(), os.urandom(16), 2000)
    if len(users) >= USERS_KEEP:
        users.pop(next(iter(users)))
    users[name] = {"name": name, "role": role, "key": key.hex()}
    _audit(request.app, "user.create", {"user": name})
    return _json({"name": name, "role": role}, status=201)


async def cost_tracking(request: web.Request) -> web.Response:
    """Cost per workspace from PostgreSQL (workflows and steps) plus executions run in this process."""
    rate = float(request.query.get("rate_per_step", "0.002"))
    rows = await request.app["db"].query(
        "SELECT w.id, w.name, count(f.id) AS workflows, coalesce(sum(jsonb_array_length(f.steps)), 0) AS steps "
        "FROM workspaces w LEFT JOIN workflows f ON f.workspace_id = w.id GROUP BY w.id, w.name ORDER BY w.id LIMIT 500")
    runs = collections.Counter(e["workflow_id"] for e in request.app["executions"])
    items = [dict(r, cost=round(float(r["steps"]) * rate, 4)) for r in rows]
    return _json({"items": items, "total_cost": round(sum(i["cost"] for i in items), 4),
                  "executions": sum(runs.values())})


# --- HeavyUser ----------------------------------------------------------------------------------------

def _module_source(i: int, rng: random.Random) -> str:
    funcs = []
    for j in range(rng.randint(3, 8)):
        body = "\n".join(f"    if x > {k}:\n        x = x * {k + 1} % 97" for k in range(rng.randint(1, 6)))
        funcs.append(f"def step_{i}_{j}(x):\n{body}\n    return x\n")
    return f'"""Generated module {i}."""\n\n' + "\n\n".join(funcs)


def _generate_project(size: int, seed: int) -> Dict[str, Any]:
    rng = random.Random(seed)
    root = tempfile.mkdtemp(prefix="sample-project-")
    try:
        digest, written = hashlib.sha256(), 0
        for i in range(size):
            text = _module_source(i, rng)
            path = os.path.join(root, f"module_{i:03d}.py")
            with open(path, "w") as fh:
                fh.write(text)
            with open(path, "rb") as fh:
                data = fh.read()
            digest.update(data)
            written += len(data)
        return {"files": size, "bytes": written, "sha256": digest.hexdigest()}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _search_dataset(rows: int, term: str, seed: int) -> Dict[str, Any]:
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "omega", "backup", "deploy", "latency", "cache", "queue"]
    matches, first = 0, None
    for i in range(rows):
        record = f"{i},{rng.choice(words)},{rng.choice(words)},{rng.random():.6f}"
        if term in record:
            matches += 1
            first = i if first is None else first
    return {"rows": rows, "matches": matches, "first_row": first}


def _analyse_codebase(size: int, seed: int) -> Dict[str, Any]:
    rng = random.Random(seed)
    functions = branches = lines = 0
    for i in range(size):
        source = _module_source(i, rng)
        lines += source.count("\n") + 1
        for node in ast.walk(ast.parse(source)):
            functions += isinstance(node, ast.FunctionDef)
            branches += isinstance(node, (ast.If, ast.For, ast.While))
    return {"files": size, "lines": lines, "functions": functions,
            "mean_complexity": round((branches + functions) / max(functions, 1), 2)}


async def generate_project(request: web.Request) -> web.Response:
    body = await _body(request)
    size = body.get("size", 20)
    if not isinstance(size, int) or not 1 <= size <= MAX_PROJECT_FILES:
        return _bad(f"size must be an integer in 1..{MAX_PROJECT_FILES}")
    result = await _in_thread(_generate_project, size, int(body.get("seed", 1)))
    _audit(request.app, "project.generate", {"files": size})
    return _json(result, status=201)


async def dataset_search(request: web.Request) -> web.Response:
    term = request.query.get("q", "").strip()
    if not term:
        return _bad("q is required")
    rows = _int_param(request, "rows", 10_000, 1, MAX_DATASET_ROWS)
    return _json(await _in_thread(_search_dataset, rows, term, _int_param(request, "seed", 1, 0, 10**6)))


async def analyse_codebase(request: web.Request) -> web.Response:
    body = await _body(request)
    size = body.get("size", 20)
    if not isinstance(size, int) or not 1 <= size <= MAX_ANALYSIS_FILES:
        return _bad(f"size must be an integer in 1..{MAX_ANALYSIS_FILES}")
    return _json(await _in_thread(_analyse_codebase, size, int(body.get("seed", 1))))


def setup(app: web.Application) -> None:
    """State and routes of the profile endpoints."""
    app["executions"] = collections.deque(maxlen=10_000)
    app["audit"] = collections.deque(maxlen=AUDIT_KEEP)
    app["users"] = {}
    app.add_routes([
        web.post(r"/api/workflows/{workflow_id:\d+}/executions", trigger_execution),
        web.get("/api/knowledge/search", knowledge_search), web.post("/api/knowledge", add_knowledge),
        web.post("/api/search/complex", complex_search),
        web.get("/admin/system/metrics", system_metrics), web.get("/admin/audit-logs", audit_logs),
        web.get("/admin/users", list_users), web.post("/admin/users", create_user),
        web.get("/admin/costs", cost_tracking),
        web.post("/api/projects/generate", generate_project), web.get("/api/datasets/search", dataset_search),
        web.post("/api/analysis/codebase", analyse_codebase),
    ])

