#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: load_test
short_description: Load-test an HTTP service and gate on latency, errors, throughput, CPU and memory growth
version_added: 0.1.0
description:
  - "Runs a bounded load test with the built-in async engine (asyncio protocols on uvloop with the llhttp
    parser from httptools; keep-alive, chunked bodies, C(Connection: close), TLS), or with Locust or k6, and
    evaluates thresholds overall, per stage and per endpoint from HDR histograms."
  - The closed model runs virtual users; the open model sends requests on a fixed arrival schedule and
    measures latency from each request's intended send time, so server stalls are not hidden
    (coordinated-omission correction, as wrk2 does).
  - Samples the target's CPU and resident memory during the run (from its Prometheus metrics or from a
    PID on the same host) and fits a regression slope of memory over the sustain stage.
  - Only targets on loopback or in O(allowed_hosts) are accepted; every run is bounded by
    O(max_requests) and O(max_duration). A plan longer than O(max_duration) is refused before anything is sent.
  - The verdict is C(pass) only when the whole plan was played at the planned load and every limit had data. It
    is C(pending) with the reason when the run was cut short by O(max_requests) or O(max_duration) (stages not
    finished or never reached), when the open-model generator could not keep its schedule (more than 5% of sends,
    and at least 5, started over 50 ms late, or under 95% of the scheduled rate; its own lag is never counted as
    target latency, and latency limits it failed become undecided), or when a
    limit has no data (for example C(cpu_percent) in O(thresholds) but no resource sample collected). k6 exiting
    99 (thresholds of its script crossed) is C(fail); other non-zero k6 exits are errors naming the code.
  - Writes JSON, Markdown, HTML (latency-over-time plot) and JUnit reports when O(report_dir) is set.
options:
  engine:
    description: Load generator. C(locust) and C(k6) need their tools installed (see the load_test role).
    type: str
    choices: [builtin, locust, k6]
    default: builtin
  base_url:
    description: Prefix for request URLs that start with C(/).
    type: str
    default: ""
  requests:
    description:
      - Weighted request mix. Each item is a URL string or a mapping with C(url), C(name), C(weight), C(method),
        C(json) and C(expect_status).
      - "Built-in engine only: C(body) (a raw request body string; C(json) wins when both are given),
        C(expect_body) (the response body must contain this string, else the request fails as C(check_body)) and
        C(expect_json) (a mapping of JSON path such as C(data.items[0].id) to the value it must have, or null for
        present with any value; else C(check_json))."
      - Headers are not accepted here (this list is logged in clear); use O(headers), O(request_headers) or
        O(auth_token).
    type: list
    elements: raw
    required: true
  headers:
    description:
      - Headers sent with every request. Hidden from logs and from the module's output (Ansible masks every
        occurrence of each value in the output, so avoid short values such as V(1)).
    type: dict
    default: {}
  request_headers:
    description:
      - Headers by request name (the C(name) of an item of O(requests)), added to O(headers) for that request.
        Hidden from logs like O(headers).
    type: dict
    default: {}
  auth_token:
    description:
      - Bearer token sent as C(Authorization) on every request (built-in engine, and the Locust and k6 engines
        when they run the plan's own mix). Never written to reports or logs.
    type: str
  model:
    description: C(closed) (stage targets are virtual users) or C(open) (stage targets are requests per second).
    type: str
    choices: [closed, open]
    default: closed
  profile:
    description:
      - Named stage shape used when O(stages) is empty. C(smoke) 5 users 2 min; C(load) ramp 2 min to 50,
        5 min to 100, sustain 10 min, ramp down 3 min; C(stress) 500 users 10 min; C(spike) 20, 200, 20;
        C(endurance) 100 users 2 h (needs O(max_duration) of at least 7200, or a O(time_scale)).
    type: str
    choices: [smoke, load, stress, spike, endurance]
    default: smoke
  stages:
    description:
      - Explicit stages (override O(profile)). Load goes linearly from C(start) (default the previous
        stage's target) to C(target) over C(duration) seconds.
    type: list
    elements: dict
    default: []
  time_scale:
    description: Multiplies every stage duration (for example V(0.01) runs a 2 min profile in 1.2 s).
    type: float
    default: 1.0
  target_scale:
    description: Multiplies every stage target (users or requests per second).
    type: float
    default: 1.0
  think_time:
    description: Mean pause between requests of one virtual user, seconds (closed model).
    type: float
    default: 0.0
  timeout:
    description:
      - Per-request timeout, seconds, for the connection (TCP and TLS handshake) and then for the whole answer.
        The built-in engine checks deadlines every O(timeout)/5 seconds (at most every 50 ms); a timed-out
        request counts as an error of kind C(timeout).
    type: float
    default: 10.0
  max_requests:
    description: Hard bound on requests sent. A run stopped by it is C(pending) (its later stages never ran).
    type: int
    default: 1000000
  max_duration:
    description:
      - Hard bound on the run's wall time, seconds. A plan whose stages last longer is refused; a run that still
        hits the bound (a generator falling behind) is C(pending).
    type: float
    default: 3600.0
  max_in_flight:
    description:
      - Open model cap on outstanding requests, which also caps its connections (per origin); a stalled target
        gets at most this many, not one per arrival.
      - Arrivals beyond it wait for a slot, and that wait counts as their latency (the target's back-pressure).
        One that cannot start within O(timeout) is dropped, and recorded as a failed request of kind
        C(dropped), so the queue holds at most about rate x O(timeout) sends.
    type: int
    default: 1024
  thresholds:
    description:
      - Limits overlaid on the defaults C(p95_ms=500), C(p99_ms=1000), C(error_rate=0.001), C(cpu_percent=80),
        C(memory_growth_mb_per_10min=100). Other keys C(p50_ms), C(p90_ms), C(max_ms), C(min_rps).
        A null value switches a limit off.
      - Search-scope budgets apply by default to endpoints with these names (the request names of the role's
        C(files/locustfile.py) and C(files/k6_script.js)) - C(search) p95 < 200 ms, C(kb_search) (the 1,000-item
        knowledge base) p95 < 300 ms, C(complex_search) p95 < 500 ms; a stricter C(p95_ms) here stays, and
        O(threshold_overrides) for the scope replace them.
    type: dict
    default: {}
  threshold_scopes:
    description: Where latency and error limits apply. C(min_rps) and resource limits apply overall only.
    type: list
    elements: str
    choices: [overall, stage, endpoint]
    default: [overall, stage, endpoint]
  threshold_overrides:
    description: Limits for one scope, each a mapping with C(scope) (C(stage:NAME) or C(endpoint:NAME)) and limit keys.
    type: list
    elements: dict
    default: []
  abort_on_fail:
    description: Stop as soon as a latency or error limit fails (overall or in a finished stage).
    type: bool
    default: false
  target_metrics_url:
    description: Prometheus metrics URL of the target (C(process_cpu_seconds_total), C(process_resident_memory_bytes)).
    type: str
    default: ""
  target_pid:
    description: PID of the target on this host, read from C(/proc) (alternative to O(target_metrics_url)).
    type: int
    default: 0
  sample_interval:
    description: Seconds between resource samples; V(0) picks one from the run length (0.1 to 1 s).
    type: float
    default: 0.0
  sustain_stages:
    description: Stages over which memory growth is fitted; default the flat stages with load.
    type: list
    elements: str
    default: []
  allowed_hosts:
    description: Host names allowed as targets besides loopback; the load_test role passes the inventory hosts.
    type: list
    elements: str
    default: []
  allow_loopback:
    description: Accept loopback targets (C(localhost), C(127.0.0.0/8), C(::1)).
    type: bool
    default: true
  validate_certs:
    description: Verify TLS certificates of HTTPS targets.
    type: bool
    default: true
  ca_path:
    description: CA bundle (PEM) that HTTPS targets' certificates must chain to, instead of the system store.
    type: path
  report_dir:
    description: Directory for C(<report_name>.json), C(.md), C(.html) and C(.junit.xml); no files when empty.
    type: path
    default: ""
  report_name:
    description: Base name of the report files.
    type: str
    default: load_test
  seed:
    description: Seed of the request-mix chooser, for repeatable mixes.
    type: int
  workers:
    description:
      - Processes for the built-in engine (one core each). Each runs the stages at 1/N of the users or rate;
        their HDR histograms are merged. O(abort_on_fail) then applies within each worker.
      - The workers share nothing while the load runs and start their schedules together, after their set-up.
        Throughput grows with them only while each has a core of its own and the target keeps up; on a host
        whose cores also run the target, more workers compete with it (see C(worker_runs) in RV(run)).
    type: int
    default: 1
  locust:
    description:
      - Locust settings for O(engine=locust) - C(locustfile), C(workers) (local worker processes),
        C(user_classes), C(tags), C(executable).
      - Workers on other hosts (the load_test role starts them on inventory hosts) - C(expect_workers) (how
        many; the master waits for them and local ones), C(worker_timeout) (seconds, default 60; fails with
        "only K of N Locust workers connected" when they do not all arrive), C(master_bind_host) (default
        C(127.0.0.1); never all interfaces unless set) and C(master_port). Such workers run
        C(locust -f - --worker --master-host HOST --master-port PORT), download the locustfiles and plan from
        the master and send their request samples back over Locust's messaging.
    type: dict
    default: {}
  k6:
    description: k6 settings for O(engine=k6) - C(script), C(executable), C(scenario).
    type: dict
    default: {}
notes:
  - Returns C(verdict) (status C(pass), C(fail) or C(pending), summary, evidence); store it with
    M(deploysafe.preflight.record_verdict).
extends_documentation_fragment:
  - deploysafe.preflight.attributes
  - deploysafe.preflight.attributes.no_diff
attributes:
  check_mode:
    support: full
    details: Validates the plan and the target allowlist; sends no request and returns a C(pending) verdict.
requirements:
  - httptools
  - hdrhistogram
  - uvloop (optional, about twice the requests per CPU second)
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Closed model over HTTPS with a private CA, checking what the answers say
  deploysafe.preflight.load_test:
    base_url: https://app.internal.example:8443
    allowed_hosts: [app.internal.example]
    ca_path: /etc/pki/internal-ca.pem
    requests:
      - {url: /healthz, name: health, expect_body: ok}
      - url: /api/orders
        name: create_order
        method: POST
        json: {sku: demo-1, quantity: 1}
        expect_status: [201]
        expect_json: {"order.state": created, "order.id": null}
    stages: [{duration: 60, target: 32, start: 32}]

- name: Short open-model run against the sample service
  deploysafe.preflight.load_test:
    base_url: http://127.0.0.1:8080
    model: open
    requests:
      - {url: /api/workspaces, name: workspaces, weight: 3}
      - {url: "/api/search?q=backup", name: search}
    stages:
      - {name: ramp, duration: 30, target: 200}
      - {name: sustain, duration: 120, target: 200}
    thresholds: {p95_ms: 300, error_rate: 0.01}
    threshold_overrides:
      - {scope: "endpoint:search", p95_ms: 800}
    target_metrics_url: http://127.0.0.1:8080/metrics
    report_dir: /var/tmp/preflight/load
  register: load

- name: The load profile at 1/100 of its length
  deploysafe.preflight.load_test:
    requests: [http://127.0.0.1:8080/healthz]
    profile: load
    time_scale: 0.01
"""

RETURN = r"""
verdict:
  description:
    - The evidence contract; C(fail) when any limit fails, no request completed or k6 exited 99; C(pending) when
      the run was cut short, the generator saturated or a limit had no data.
    - Open model with the built-in engine - measurements C(generator_late_sends_pct),
      C(generator_target_rps), C(generator_achieved_rps) and C(generator_lag_mean_ms).
  returned: always
  type: dict
  sample: {"status": "pass", "summary": "1200 requests, 199.8 req/s, p95 9.1 ms, errors 0.00%",
           "evidence": {"artifacts": [], "findings": {"thresholds_failed": 0},
                        "measurements": [{"name": "p95_ms", "value": 9.1, "unit": "ms", "threshold": 500,
                                          "comparison": "<", "ok": true}]}}
stats:
  description: C(overall), C(stages) and C(endpoints) statistics (requests, rps, error_rate, percentiles in ms).
  returned: success
  type: dict
  sample: {"overall": {"requests": 1200, "rps": 199.8, "error_rate": 0.0, "p95_ms": 9.1}, "stages": {}, "endpoints": {}}
checks:
  description: Every evaluated threshold (name, scope, value, limit, comparison, ok; ok null when there was no data).
  returned: success
  type: list
  elements: dict
  sample: [{"name": "p95_ms[stage=sustain]", "scope": "stage:sustain", "value": 9.1, "limit": 500, "comparison": "<", "ok": true}]
resources:
  description: Target CPU percent, RSS and memory growth (MB per 10 min) when sampled.
  returned: success
  type: dict
  sample: {"samples": 30, "cpu_percent_mean": 14.0, "memory_growth_mb_per_10min": 1.5}
run:
  description:
    - Duration, requests sent, why it stopped early (if it did), first error per kind and C(error_kinds) (count per
      kind). Built-in engine kinds - C(http_<status>), C(check_body), C(check_json), C(timeout), C(connect),
      C(tls), C(dns), C(disconnected) (closed or cut before the answer was complete), C(protocol) (not HTTP/1.1),
      C(dropped) (open model - not sent, no free slot within O(timeout); see O(max_in_flight)).
    - Built-in engine - C(reached_s) (how far into the stages it got), C(schedule_done), C(peak_connections),
      C(generator_cpu_s) (CPU seconds of the generator processes during the run), C(host_wait_s) (seconds the
      generator waited for a CPU, Linux; -1 unknown); open model C(late_sends) (sends the schedule reached more
      than 50 ms late, also those that then waited for a slot), C(dropped), C(generator_lag_s), C(max_lag_s) and
      C(max_lag_host_wait_s) (the latest send, and how long the host kept the generator off the CPU meanwhile -
      when that is most of it, the verdict names a busy host), C(last_send_s), C(last_intended_s).
      k6 - C(exit_code), C(engine_thresholds_failed).
    - C(workers) is the number of worker processes; with Locust C(workers_reporting) counts the processes
      whose request samples arrived. Built-in engine with O(workers) > 1 - C(worker_runs), per worker
      C(requests), C(cpu_s) (CPU during the run), C(process_cpu_s) (the whole process) and C(duration).
  returned: success
  type: dict
  sample: {"duration": 150.0, "sent": 30000, "aborted": "", "first_errors": {}}
reports:
  description: Paths of the written reports.
  returned: when report_dir is set
  type: dict
  sample: {"json": "/var/tmp/preflight/load/load_test.json", "html": "/var/tmp/preflight/load/load_test.html"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.deps import requires
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.plan import LoadTestError
from ansible_collections.deploysafe.preflight.plugins.module_utils.load.runner import build_plan, run_load_test, DEFAULTS
from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import stamp_module_verdicts, make_verdict


def main():
    module = AnsibleModule(
        argument_spec=dict(
            engine=dict(type="str", choices=["builtin", "locust", "k6"], default="builtin"),
            base_url=dict(type="str", default=""),
            requests=dict(type="list", elements="raw", required=True),
            headers=dict(type="dict", default={}, no_log=True),
            request_headers=dict(type="dict", default={}, no_log=True),
            auth_token=dict(type="str", no_log=True),
            model=dict(type="str", choices=["closed", "open"], default="closed"),
            profile=dict(type="str", choices=["smoke", "load", "stress", "spike", "endurance"], default="smoke"),
            stages=dict(type="list", elements="dict", default=[]),
            time_scale=dict(type="float", default=1.0),
            target_scale=dict(type="float", default=1.0),
            think_time=dict(type="float", default=0.0),
            timeout=dict(type="float", default=10.0),
            max_requests=dict(type="int", default=1000000),
            max_duration=dict(type="float", default=3600.0),
            max_in_flight=dict(type="int", default=1024),
            thresholds=dict(type="dict", default={}),
            threshold_scopes=dict(type="list", elements="str", choices=["overall", "stage", "endpoint"],
                                  default=["overall", "stage", "endpoint"]),
            threshold_overrides=dict(type="list", elements="dict", default=[]),
            abort_on_fail=dict(type="bool", default=False),
            target_metrics_url=dict(type="str", default=""),
            target_pid=dict(type="int", default=0),
            sample_interval=dict(type="float", default=0.0),
            sustain_stages=dict(type="list", elements="str", default=[]),
            allowed_hosts=dict(type="list", elements="str", default=[]),
            allow_loopback=dict(type="bool", default=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            report_dir=dict(type="path", default=""),
            report_name=dict(type="str", default="load_test"),
            seed=dict(type="int"),
            workers=dict(type="int", default=1),
            locust=dict(type="dict", default={}),
            k6=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    stamp_module_verdicts(module, "load_test")
    # Headers inside `requests` are refused (see build_requests); keep their values out of this task's output.
    for item in module.params["requests"]:
        if isinstance(item, dict) and isinstance(item.get("headers"), dict):
            module.no_log_values.update(str(v) for v in item["headers"].values() if v not in (None, ""))
    params = {k: v for k, v in module.params.items() if k in DEFAULTS}
    if params["engine"] == "builtin":
        requires(module, "httptools", "hdrh")
    try:
        if module.check_mode:
            plan = build_plan({**DEFAULTS, **params})
            module.exit_json(changed=False, verdict=make_verdict(
                "pending", f"check mode: plan of {len(plan.stages)} stages, {plan.duration:.0f} s, "
                f"{len(plan.requests)} requests in the mix is valid; nothing sent"))
        result = run_load_test(params)
    except LoadTestError as exc:
        module.fail_json(msg=f"load_test: {exc}")
    result.pop("timeline", None)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
