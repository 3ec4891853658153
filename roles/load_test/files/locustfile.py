"""Locust users for the deploysafe sample service (tests/sample_app): run with the load_test role
(load_test_engine: locust, load_test_locustfile: <this file>) or by hand:

    locust -f locustfile.py --headless -H http://127.0.0.1:8080 -u 20 -r 5 -t 1m

Weights: most traffic is PlatformUser browsing; AdminUser writes; HeavyUser runs searches that hit the
index (or its text-scan fallback). Tags select subsets: --tags read, --tags write, --tags search.
"""

import random
import uuid

from locust import between, tag, task
from locust.contrib.fasthttp import FastHttpUser

TERMS = ["backup", "restore", "postgres", "deploy", "rollback", "kubernetes", "latency", "alert", "canary"]


class PlatformUser(FastHttpUser):
    """Everyday reads."""
    weight = 6
    wait_time = between(0.5, 2)

    @tag("read")
    @task(5)
    def list_workspaces(self):
        self.client.get("/api/workspaces", name="workspaces")

    @tag("read")
    @task(3)
    def list_workflows(self):
        self.client.get(f"/api/workflows?workspace_id={random.randint(1, 20)}", name="workflows")

    @tag("read", "search")
    @task(2)
    def search(self):
        self.client.get(f"/api/search?q={random.choice(TERMS)}", name="search")

    @tag("health")
    @task(1)
    def health(self):
        self.client.get("/healthz", name="healthz")


class AdminUser(FastHttpUser):
    """Creates workspaces and workflows (writes to PostgreSQL)."""
    weight = 1
    wait_time = between(1, 3)

    @tag("write")
    @task(2)
    def create_workspace(self):
        self.client.post("/api/workspaces", json={"name": f"load-{uuid.uuid4().hex[:12]}"}, name="create_workspace")

    @tag("write")
    @task(1)
    def create_workflow(self):
        self.client.post("/api/workflows", json={"workspace_id": random.randint(1, 20), "name": "load",
                                                 "steps": ["build", "test", "deploy"]}, name="create_workflow")


class HeavyUser(FastHttpUser):
    """Back-to-back multi-term searches with large result pages."""
    weight = 2
    wait_time = between(0.1, 0.5)

    @tag("search")
    @task
    def deep_search(self):
        terms = "+".join(random.sample(TERMS, 2))
        self.client.get(f"/api/search?q={terms}&limit=100", name="deep_search")
