# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by the rehearsal modules (deploy_rehearsal, rollback_rehearsal).
    DOCUMENTATION = r"""
options:
  source_namespace:
    description: Namespace to copy referenced ConfigMaps and Secrets from (for example production's).
    type: str
  configmaps:
    description: ConfigMaps to create in the rehearsal namespace, as C(name -> {key -> value}).
    type: dict
    default: {}
  secrets:
    description: Secrets to create in the rehearsal namespace, as C(name -> {key -> value}). Never logged or returned.
    type: dict
    default: {}
  run_id:
    description: Id of this preflight run, put in the namespace label C(deploysafe.io/run-id). Default a timestamp.
    type: str
  ttl_seconds:
    description: Written to the namespace annotations, so that a janitor can remove leftovers of a killed run.
    type: int
    default: 3600
  timeout:
    description: Seconds each rollout (of every workload, in every phase) has to complete.
    type: int
    default: 300
  max_restarts:
    description: Container restarts tolerated across the namespace; a pod crash-looping beyond it ends the wait.
    type: int
    default: 0
  health_check_url:
    description:
      - URL to check once the pods are Ready (a route or ingress to the rehearsal, or a local port-forward).
        Empty means no health check.
    type: str
    default: ""
  health_check_service:
    description:
      - Check health through the API server's service proxy instead of a URL, on a real cluster where the rehearsal
        namespace has no route from here. V(name), V(name:port) or V(scheme:name:port) of a Service of the manifests;
        the request goes to C(/api/v1/namespaces/<rehearsal>/services/<service>/proxy/<health_check_path>).
      - Needs the C(services/proxy) permission. Useless on simulated nodes (kwok), whose pods have no process behind their IPs.
    type: str
    default: ""
  health_check_path:
    description: Path requested through the service proxy (O(health_check_service)).
    type: str
    default: /healthz
  health_check_expected_status:
    description: Acceptable HTTP statuses of the health check.
    type: list
    elements: int
    default: [200]
  health_check_retries:
    description: Extra attempts of the health check.
    type: int
    default: 3
  keep_on_failure:
    description: Keep the namespace of a failed rehearsal for inspection (it still carries its TTL annotation).
    type: bool
    default: false
  log_lines:
    description: Lines of log tail per container of a pod that is not Ready; V(0) gathers no logs.
    type: int
    default: 20
  cleanup_timeout:
    description: Seconds to wait until the deleted namespace is gone.
    type: int
    default: 120
  fail_on:
    description:
      - Fail the task when the verdict is C(fail) (V(fail)), anything but C(pass) (V(pending)), or never (V(never)).
        The result, verdict included, is returned in every case.
    type: str
    choices: [fail, pending, never]
    default: fail
notes:
  - The throwaway namespace is deleted on success, failure, error, Ctrl-C, SIGTERM and SIGHUP, unless
    O(keep_on_failure) is set and the rehearsal failed; a C(kill -9) leaves it with its TTL annotation.
"""
