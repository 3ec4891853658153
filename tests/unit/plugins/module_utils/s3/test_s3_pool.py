"""BoundedPool: the queue and memory bounds of the concurrent upload paths (pure logic, no S3)."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.deploysafe.preflight.plugins.module_utils.s3.multipart import BoundedPool, raise_first_error


def test_memory_budget_and_task_count_are_never_exceeded():
    pool = BoundedPool(workers=4, max_tasks=6, memory_budget=100, name="t")
    lock = threading.Lock()
    state = {"bytes": 0, "tasks": 0, "max_bytes": 0, "max_tasks": 0}

    def job(size):
        with lock:
            state["bytes"] += size
            state["tasks"] += 1
            state["max_bytes"] = max(state["max_bytes"], state["bytes"])
            state["max_tasks"] = max(state["max_tasks"], state["tasks"])
        time.sleep(0.005)
        with lock:
            state["bytes"] -= size
            state["tasks"] -= 1
        return size

    futures = [pool.submit(size, job, size) for size in [30, 40, 50, 10, 20, 60, 5, 45] * 4]
    pool.shutdown()
    assert [f.result() for f in futures] == [30, 40, 50, 10, 20, 60, 5, 45] * 4
    assert state["max_bytes"] <= 100 and state["max_tasks"] <= 4


def test_a_task_larger_than_the_budget_still_runs_alone():
    pool = BoundedPool(workers=2, max_tasks=4, memory_budget=10, name="t")
    assert pool.submit(1000, lambda: "big").result() == "big"
    assert pool.submit(5, lambda: "small").result() == "small"
    pool.shutdown()


def test_first_failure_is_raised_and_cancelled_work_frees_its_room():
    pool = BoundedPool(workers=1, max_tasks=2, memory_budget=10, name="t")
    gate = threading.Event()
    blocked = pool.submit(5, gate.wait)
    queued = pool.submit(5, lambda: None)
    assert queued.cancel()  # a cancelled upload releases its slot and bytes
    failing = pool.submit(5, lambda: 1 / 0)  # would block forever if the cancelled one kept its room
    gate.set()
    blocked.result()
    with pytest.raises(ZeroDivisionError):
        failing.result()
    with pytest.raises(ZeroDivisionError):
        raise_first_error([blocked, queued, failing])
    pool.shutdown()
