"""Sample service "deployed" by the demo and load-gate tests (aiohttp + PostgreSQL).

Endpoints: /healthz (application/health+json), /livez, /metrics (Prometheus text),
/api/workspaces, /api/workflows, /api/search?q=, /admin/faults (fault injection), and the endpoints the
shipped load profiles call (workload.py).
Database settings come from the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from datetime import datetime, timezone

import psycopg
from aiohttp import web

from db import Pool
from faults import FaultLoops, Faults
from jsonweb import json_body as _json_body, json_response
from knowledge import KnowledgeBase
from metrics import Metrics
from workload import setup as setup_workload

VERSION = "0.1.0"
HEALTH_JSON = "application/health+json"


@web.middleware
async def instrument(request: web.Request, handler):
    app = request.app
    started = time.perf_counter()
    route = request.match_info.route.resource
    endpoint = route.canonical if route is not None else "unmatched"
    status = 500
    try:
        faults: Faults = app["faults"]
        delay = faults.delay_for(request.path)
        if delay:
            await asyncio.sleep(delay)
        if faults.should_fail(request.path):
            status = 500
            return json_response({"error": "injected fault"}, status=500)
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except (psycopg.Error, asyncio.TimeoutError, OSError) as exc:
        status = 503
        return json_response({"error": f"database unavailable: {type(exc).__name__}"}, status=503)
    finally:
        if endpoint != "/metrics":
            app["metrics"].observe(request.method, endpoint, status, time.perf_counter() - started)


async def healthz(request: web.Request) -> web.Response:
    now = datetime.now(timezone.utc).isoformat()
    checks = {}
    started = time.perf_counter()
    try:
        await request.app["db"].query("SELECT 1")
        pg = {"componentType": "datastore", "status": "pass",
              "observedValue": round((time.perf_counter() - started) * 1000, 2), "observedUnit": "ms", "time": now}
    except Exception as exc:  # any failure to answer is a failed dependency
        pg = {"componentType": "datastore", "status": "fail", "time": now,
              "output": f"{type(exc).__name__}: {exc}"[:300]}
    checks["postgres:connection"] = [pg]
    index_ok = request.app["faults"].search_index
    checks["search:index"] = [{"componentType": "component", "status": "pass" if index_ok else "warn", "time": now,
                               **({} if index_ok else {"output": "index unavailable, using text scan"})}]
    statuses = [c[0]["status"] for c in checks.values()]
    overall = "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"
    body = {"status": overall, "version": "1", "releaseId": VERSION, "serviceId": "deploysafe-sample-app",
            "description": "sample service for deploysafe.preflight", "checks": checks}
    return web.Response(text=json.dumps(body), status=503 if overall == "fail" else 200, content_type=HEALTH_JSON)


async def livez(request: web.Request) -> web.Response:
    return json_response({"status": "pass"})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(text=request.app["metrics"].render(), content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})


async def list_workspaces(request: web.Request) -> web.Response:
    limit = min(int(request.query.get("limit", "100")), 1000)
    rows = await request.app["db"].query("SELECT id, name, created_at FROM workspaces ORDER BY id LIMIT %s", (limit,))
    return json_response({"items": rows, "count": len(rows)})


async def create_workspace(request: web.Request) -> web.Response:
    body = await _json_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 200:
        return json_response({"error": "name: a string of 1..200 characters is required"}, status=400)
    try:
        rows = await request.app["db"].query(
            "INSERT INTO workspaces (name) VALUES (%s) RETURNING id, name, created_at", (name,))
    except psycopg.errors.UniqueViolation:
        return json_response({"error": f"workspace {name!r} exists"}, status=409)
    return json_response(rows[0], status=201)


async def list_workflows(request: web.Request) -> web.Response:
    ws = request.query.get("workspace_id")
    if ws is not None and not ws.isdigit():
        return json_response({"error": "workspace_id must be an integer"}, status=400)
    sql = "SELECT id, workspace_id, name, steps FROM workflows"
    rows = await request.app["db"].query(sql + (" WHERE workspace_id = %s" if ws else "") + " ORDER BY id LIMIT 200",
                                         (int(ws),) if ws else None)
    return json_response({"items": rows, "count": len(rows)})


async def create_workflow(request: web.Request) -> web.Response:
    body = await _json_body(request)
    ws, name, steps = body.get("workspace_id"), body.get("name"), body.get("steps", [])
    if not isinstance(ws, int) or not isinstance(name, str) or not isinstance(steps, list):
        return json_response({"error": "workspace_id (int), name (str) and steps (list) are required"}, status=400)
    try:
        rows = await request.app["db"].query(
            "INSERT INTO workflows (workspace_id, name, steps) VALUES (%s, %s, %s::jsonb) "
            "RETURNING id, workspace_id, name, steps", (ws, name, json.dumps(steps)))
    except psycopg.errors.ForeignKeyViolation:
        return json_response({"error": f"workspace {ws} does not exist"}, status=404)
    return json_response(rows[0], status=201)


async def search(request: web.Request) -> web.Response:
    q = request.query.get("q", "").strip()
    if not q:
        return json_response({"error": "q is required"}, status=400)
    limit = min(int(request.query.get("limit", "20")), 100)
    kb: KnowledgeBase = request.app["kb"]
    if request.app["faults"].search_index:
        items, source = kb.search_index(q, limit), "index"
    else:
        items, source = kb.search_scan(q, limit), "scan"
    items = request.app["faults"].rank(items)
    return json_response({"query": q, "source": source, "count": len(items), "items": items})


async def get_faults(request: web.Request) -> web.Response:
    return json_response(request.app["faults"].as_dict())


async def set_faults(request: web.Request) -> web.Response:
    body = await _json_body(request)
    try:
        request.app["faults"].update(body)
    except (ValueError, TypeError) as exc:
        return json_response({"error": str(exc)}, status=400)
    return json_response(request.app["faults"].as_dict())


async def reset_faults(request: web.Request) -> web.Response:
    app = request.app
    app["faults"].__init__()
    app["fault_loops"].leaked.clear()
    return json_response(app["faults"].as_dict())


def make_app(conninfo: dict, faults: Faults) -> web.Application:
    app = web.Application(middlewares=[instrument])
    app["faults"] = faults
    app["metrics"] = Metrics()
    app["kb"] = KnowledgeBase()
    app["fault_loops"] = FaultLoops(faults)

    async def on_startup(app: web.Application) -> None:
        app["db"] = Pool(conninfo)
        app["fault_loops"].start()

    async def on_cleanup(app: web.Application) -> None:
        await app["fault_loops"].stop()
        await app["db"].close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.add_routes([
        web.get("/healthz", healthz), web.get("/livez", livez), web.get("/metrics", metrics),
        web.get("/api/workspaces", list_workspaces), web.post("/api/workspaces", create_workspace),
        web.get("/api/workflows", list_workflows), web.post("/api/workflows", create_workflow),
        web.get("/api/search", search),
        web.get("/admin/faults", get_faults), web.post("/admin/faults", set_faults),
        web.delete("/admin/faults", reset_faults),
    ])
    setup_workload(app)   # the endpoints of the shipped load profiles
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("APP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("APP_PORT", "8080")))
    args = parser.parse_args()
    conninfo = {"host": os.environ.get("PGHOST", "127.0.0.1"), "port": int(os.environ.get("PGPORT", "5432")),
                "user": os.environ.get("PGUSER", "app"), "password": os.environ.get("PGPASSWORD", ""),
                "dbname": os.environ.get("PGDATABASE", "app")}
    faults = Faults()
    if os.environ.get("DEPLOYSAFE_APP_FAULTS"):
        faults.update(json.loads(os.environ["DEPLOYSAFE_APP_FAULTS"]))
    web.run_app(make_app(conninfo, faults), host=args.host, port=args.port, access_log=None,
                print=lambda msg: print(msg, flush=True))


if __name__ == "__main__":
    main()
