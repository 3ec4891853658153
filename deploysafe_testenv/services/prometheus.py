"""Prometheus + Alertmanager (Debian packages) scraping the sample service every second.

The rules file has SampleAppHighErrorRate, which fires within seconds when the sample service's
5xx ratio is pushed up through its fault injection, plus SampleAppDown and SampleAppHighLatency.

Tests may add their own: rule files dropped into `rules_dir` (*.yml, loaded on POST `reload_url`) and
scrape targets dropped into `targets_dir` (Prometheus file_sd *.json, picked up within seconds, job
`extra` unless the file sets a job label). A test removes its files (and reloads) when done.
"""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from pathlib import Path

from deploysafe_testenv.env import Service, ServiceInfo
from deploysafe_testenv.process import ServiceError, free_port, spawn, wait_until

RULES = """\
groups:
  - name: sample-app
    rules:
      - alert: SampleAppHighErrorRate
        expr: |
          sum(rate(http_requests_total{job="sample-app",status=~"5.."}[10s]))
            / sum(rate(http_requests_total{job="sample-app"}[10s])) > 0.05
        labels:
          severity: critical
          service: sample-app
        annotations:
          summary: More than 5% of the sample service's requests fail.
      - alert: SampleAppHighLatency
        expr: |
          histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="sample-app"}[30s]))) > 0.5
        for: 10s
        labels:
          severity: warning
          service: sample-app
        annotations:
          summary: p95 latency of the sample service is above 500 ms.
      - alert: SampleAppDown
        expr: up{job="sample-app"} == 0
        for: 5s
        labels:
          severity: critical
          service: sample-app
        annotations:
          summary: Prometheus cannot scrape the sample service.
"""

ALERTMANAGER = """\
route:
  receiver: blackhole
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
"""


def _binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if not path:
        raise ServiceError(f"{name} not installed: run scripts/install-system-deps (packages prometheus, "
                           "prometheus-alertmanager)")
    return path


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=2) as resp:
        return json.loads(resp.read())


class PrometheusService(Service):
    name = "prometheus"
    requires = ("app",)

    def start(self) -> ServiceInfo:
        app_url = self.env["app"].data["url"]
        app_host = urllib.parse.urlsplit(app_url).netloc
        am_port, prom_port = free_port(), free_port()
        rules = self.dir / "rules.yml"
        rules.write_text(RULES)
        rules_dir, targets_dir = self.dir / "rules.d", self.dir / "targets.d"
        rules_dir.mkdir(exist_ok=True)
        targets_dir.mkdir(exist_ok=True)
        (self.dir / "alertmanager.yml").write_text(ALERTMANAGER)
        (self.dir / "prometheus.yml").write_text(f"""\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["{rules}", "{rules_dir}/*.yml"]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{am_port}"]
scrape_configs:
  - job_name: sample-app
    static_configs:
      - targets: ["{app_host}"]
        labels: {{service: sample-app}}
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:{prom_port}"]
  - job_name: extra
    file_sd_configs:
      - files: ["{targets_dir}/*.json"]
        refresh_interval: 1s
""")
        am_log, prom_log = self.dir / "alertmanager.log", self.dir / "prometheus.log"
        am = spawn([_binary("prometheus-alertmanager"), f"--config.file={self.dir / 'alertmanager.yml'}",
                    f"--storage.path={self.dir / 'am-data'}", f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address="], am_log, cwd=self.dir, attached=self.env.attached)
        am_url = f"http://127.0.0.1:{am_port}"
        prom = None
        try:
            wait_until("Alertmanager", lambda: _get_json(am_url + "/api/v2/status") is not None, timeout=30,
                       proc=am, log_path=am_log)
            prom = spawn([_binary("prometheus"), f"--config.file={self.dir / 'prometheus.yml'}",
                          f"--storage.tsdb.path={self.dir / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}",
                          "--storage.tsdb.retention.time=1d", "--web.enable-lifecycle"],  # POST /-/reload
                         prom_log, cwd=self.dir, attached=self.env.attached)
            url = f"http://127.0.0.1:{prom_port}"
            query = url + "/api/v1/query?" + urllib.parse.urlencode({"query": 'up{job="sample-app"} == 1'})
            wait_until("Prometheus scraping the sample service",
                       lambda: bool(_get_json(query)["data"]["result"]), timeout=60, proc=prom, log_path=prom_log)
        except ServiceError:
            from deploysafe_testenv.process import stop_group
            for p in (prom, am):
                if p is not None:
                    stop_group(p.pid)
            raise
        return ServiceInfo(
            name=self.name, pids=[am.pid, prom.pid], ports=[am_port, prom_port],
            exports={"DEPLOYSAFE_PROMETHEUS_URL": url, "DEPLOYSAFE_ALERTMANAGER_URL": am_url},
            data={"url": url, "alertmanager_url": am_url, "rules_file": str(rules), "log": str(prom_log),
                  "alertmanager_log": str(am_log), "rules_dir": str(rules_dir), "targets_dir": str(targets_dir),
                  "reload_url": url + "/-/reload"})
