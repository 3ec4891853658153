"""Locust users for the deploysafe sample service (tests/sample_app): run with the load_test role
(load_test_engine: locust, load_test_locustfile: <this file>) or by hand:

    locust -f locustfile.py --headless -H http://127.0.0.1:8080 -u 20 -r 5 -t 1m

Classes (weights 6 : 1 : 1): PlatformUser (everyday use), AdminUser (operations), HeavyUser (big jobs).
Tags select tasks across classes: health, read, write, search, execution, knowledge, admin, heavy.
Request names are the endpoint scopes of load_test's thresholds; search, complex_search and kb_search
have budgets by default (docs/load-testing.md). Searches check the result, not only the status: a wrong
top hit is a failed request, so it counts against the error-rate limit.
Parameters (environment): DEPLOYSAFE_HEAVY_SIZE (files or thousands of rows per heavy job, default 20),
DEPLOYSAFE_WORKSPACES (ids 1..N to list workflows of, default 20). Each PlatformUser creates its own
workspace when it starts and writes workflows only there. Think times shrink with
DEPLOYSAFE_LOAD_TIME_SCALE, which load_test sets from its time_scale.
"""

import os
import random
import uuid

from locust import tag, task
from locust.contrib.fasthttp import FastHttpUser

TERMS = ["backup", "restore", "postgres", "deploy", "rollback", "kubernetes", "latency", "alert", "canary"]
HEAVY_SIZE = int(os.environ.get("DEPLOYSAFE_HEAVY_SIZE", "20"))
WORKSPACES = int(os.environ.get("DEPLOYSAFE_WORKSPACES", "20"))
KB_SIZE = 1000   # the generated articles; "article N" names exactly one of them
SCALE = float(os.environ.get("DEPLOYSAFE_LOAD_TIME_SCALE", "1"))


def think(low, high):
    """between(low, high), shortened with the stages when the run is time-scaled."""
    def wait(user):
        return random.uniform(low, high) * min(SCALE, 1.0)
    return wait


def check_search(resp, accept):
    """A search is a success only when it answers 200 with JSON whose items satisfy `accept`."""
    if resp.status_code != 200:
        resp.failure("http_%s" % resp.status_code)
        return
    try:
        items = resp.json()["items"]
    except (ValueError, KeyError, TypeError):
        resp.failure("bad_body")
        return
    if accept(items):
        resp.success()
    else:
        resp.failure("wrong_result")


class PlatformUser(FastHttpUser):
    """Everyday use: browse, create, run workflows, search and grow the knowledge base."""
    weight = 6
    wait_time = think(0.5, 2)
    workspace_id = None

    def on_start(self):
        # Each user writes into a workspace of its own, never into existing ones.
        resp = self.client.post("/api/workspaces", json={"name": "load-%s" % uuid.uuid4().hex[:12]},
                                name="create_workspace")
        if resp.status_code == 201:
            self.workspace_id = resp.json()["id"]

    @tag("health")
    @task(1)
    def health(self):
        self.client.get("/healthz", name="healthz")

    @tag("read")
    @task(5)
    def list_workspaces(self):
        self.client.get("/api/workspaces?limit=%d" % random.choice([10, 50, 100]), name="workspaces")

    @tag("write")
    @task(1)
    def create_workspace(self):
        self.client.post("/api/workspaces", json={"name": "load-%s" % uuid.uuid4().hex[:12]}, name="create_workspace")

    @tag("read")
    @task(3)
    def list_workflows(self):
        self.client.get("/api/workflows?workspace_id=%d" % random.randint(1, WORKSPACES), name="workflows")

    @tag("write")
    @task(1)
    def create_workflow(self):
        if self.workspace_id is None:
            return
        steps = random.sample(["build", "test", "scan", "deploy", "verify"], random.randint(1, 5))
        self.client.post("/api/workflows", json={"workspace_id": self.workspace_id, "name": "load",
                                                 "steps": steps}, name="create_workflow")

    @tag("write", "execution")
    @task(2)
    def trigger_execution(self):
        # Workflows of the seed data; a missing one is a 404 the test should hear about.
        with self.client.get("/api/workflows", name="workflows", catch_response=True) as resp:
            items = resp.json().get("items") if resp.status_code == 200 else None
        if items:
            wf = random.choice(items)["id"]
            self.client.post("/api/workflows/%d/executions" % wf, json={}, name="trigger_execution")

    @tag("read", "search")
    @task(3)
    def search(self):
        term = random.choice(TERMS)
        with self.client.get("/api/search?q=%s" % term, name="search", catch_response=True) as resp:
            check_search(resp, lambda items: bool(items) and term in (items[0]["title"] + items[0]["body"]).lower())

    @tag("read", "search", "knowledge")
    @task(2)
    def search_knowledge_base(self):
        article = random.randint(1, KB_SIZE)
        with self.client.get("/api/knowledge/search?q=article+%d&limit=5" % article, name="kb_search",
                             catch_response=True) as resp:
            check_search(resp, lambda items: bool(items) and items[0]["id"] == article)

    @tag("write", "knowledge")
    @task(1)
    def add_knowledge_item(self):
        note = uuid.uuid4().hex[:12]
        self.client.post("/api/knowledge", json={"title": "Load note %s" % note,
                                                 "body": "Recorded during a load run: %s." % random.choice(TERMS)},
                         name="add_knowledge")


class AdminUser(FastHttpUser):
    """Operations: system metrics, audit logs, user management, cost tracking."""
    weight = 1
    wait_time = think(1, 3)

    @tag("admin", "read")
    @task(3)
    def system_metrics(self):
        self.client.get("/admin/system/metrics", name="system_metrics")

    @tag("admin", "read")
    @task(2)
    def audit_logs(self):
        self.client.get("/admin/audit-logs?limit=%d" % random.choice([20, 100]), name="audit_logs")

    @tag("admin", "read")
    @task(1)
    def list_users(self):
        self.client.get("/admin/users", name="users")

    @tag("admin", "write")
    @task(1)
    def create_user(self):
        self.client.post("/admin/users", json={"name": "load-%s" % uuid.uuid4().hex[:10],
                                               "role": random.choice(["member", "viewer", "admin"])},
                         name="create_user")

    @tag("admin", "read")
    @task(2)
    def cost_tracking(self):
        self.client.get("/admin/costs", name="costs")


class HeavyUser(FastHttpUser):
    """Big jobs that take real CPU and disk: project generation, dataset scans, code analysis, deep searches."""
    weight = 1
    wait_time = think(2, 5)

    @tag("heavy", "write")
    @task(1)
    def generate_project(self):
        self.client.post("/api/projects/generate", json={"size": HEAVY_SIZE, "seed": random.randint(1, 10**6)},
                         name="generate_project")

    @tag("heavy", "search")
    @task(2)
    def dataset_search(self):
        self.client.get("/api/datasets/search?q=%s&rows=%d" % (random.choice(TERMS), HEAVY_SIZE * 1000),
                        name="dataset_search")

    @tag("heavy")
    @task(1)
    def analyse_codebase(self):
        self.client.post("/api/analysis/codebase", json={"size": HEAVY_SIZE, "seed": random.randint(1, 10**6)},
                         name="analyse_codebase")

    @tag("heavy", "search")
    @task(2)
    def complex_search(self):
        must, extra = random.sample(TERMS, 2)
        with self.client.post("/api/search/complex", json={"all": [must], "any": [extra, "restore"],
                                                           "none": ["canary"], "limit": 100},
                              name="complex_search", catch_response=True) as resp:
            check_search(resp, lambda items: all(must in (i["title"] + i["body"]).lower()
                                                 and "canary" not in (i["title"] + i["body"]).lower() for i in items))
