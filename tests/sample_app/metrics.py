"""Prometheus text exposition for the sample service, without client libraries.

Process CPU and RSS come from /proc/self, as the official client's process collector does.
"""

from __future__ import annotations

import os
import time
from typing import Dict, List, Tuple

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class Metrics:
    def __init__(self) -> None:
        self.requests: Dict[Tuple[str, str, str], int] = {}
        self.hist: Dict[str, List[int]] = {}     # endpoint -> cumulative-less bucket counts (+Inf last)
        self.sums: Dict[str, float] = {}
        self.counts: Dict[str, int] = {}
        self.start_time = time.time()

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        key = (method, endpoint, str(status))
        self.requests[key] = self.requests.get(key, 0) + 1
        buckets = self.hist.setdefault(endpoint, [0] * (len(BUCKETS) + 1))
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                buckets[i] += 1
                break
        else:
            buckets[-1] += 1
        self.sums[endpoint] = self.sums.get(endpoint, 0.0) + seconds
        self.counts[endpoint] = self.counts.get(endpoint, 0) + 1

    def render(self) -> str:
        lines = ["# HELP http_requests_total HTTP requests by method, endpoint and status.",
                 "# TYPE http_requests_total counter"]
        for (method, endpoint, status), n in sorted(self.requests.items()):
            lines.append(f'http_requests_total{{method="{method}",endpoint="{endpoint}",status="{status}"}} {n}')
        lines += ["# HELP http_request_duration_seconds Request latency by endpoint.",
                  "# TYPE http_request_duration_seconds histogram"]
        for endpoint, buckets in sorted(self.hist.items()):
            acc = 0
            for bound, n in zip(BUCKETS, buckets):
                acc += n
                lines.append(f'http_request_duration_seconds_bucket{{endpoint="{endpoint}",le="{bound}"}} {acc}')
            acc += buckets[-1]
            lines.append(f'http_request_duration_seconds_bucket{{endpoint="{endpoint}",le="+Inf"}} {acc}')
            lines.append(f'http_request_duration_seconds_sum{{endpoint="{endpoint}"}} {self.sums[endpoint]:.6f}')
            lines.append(f'http_request_duration_seconds_count{{endpoint="{endpoint}"}} {self.counts[endpoint]}')
        lines += process_metrics(self.start_time)
        return "\n".join(lines) + "\n"


def process_metrics(start_time: float) -> List[str]:
    with open("/proc/self/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK   # utime + stime (fields 14, 15 of stat)
    with open("/proc/self/statm") as fh:
        rss = int(fh.read().split()[1]) * PAGE
    fds = len(os.listdir("/proc/self/fd"))
    return [
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
        "# TYPE process_cpu_seconds_total counter",
        f"process_cpu_seconds_total {cpu:.2f}",
        "# HELP process_resident_memory_bytes Resident memory size in bytes.",
        "# TYPE process_resident_memory_bytes gauge",
        f"process_resident_memory_bytes {rss}",
        "# HELP process_open_fds Number of open file descriptors.",
        "# TYPE process_open_fds gauge",
        f"process_open_fds {fds}",
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
        "# TYPE process_start_time_seconds gauge",
        f"process_start_time_seconds {start_time:.2f}",
    ]
