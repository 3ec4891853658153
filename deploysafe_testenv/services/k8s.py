"""Kubernetes: a real control plane (etcd, kube-apiserver, controller-manager, scheduler) with
kwok simulating three nodes, so Deployments really produce ReplicaSets and Ready pods.

Binaries come from `make k8s-bins` ($DEPLOYSAFE_CACHE/bin). Everything listens on 127.0.0.1 with
random ports. Pods get fake IPs from POD_CIDR: never send traffic to them (no service proxy,
port-forward or exec against kwok pods).

Simulated failures (see deploysafe_testenv/k8s/stages.py and docs/testenv-kubernetes.md): a pod
annotated `deploysafe.io/simulate: never-ready` (or with an image containing `never-ready`) runs
but never becomes Ready; `crash-loop` makes it crash-loop (CrashLoopBackOff, rising restartCount).

ServiceInfo.data: kubeconfig (admin, system:masters), kubeconfig_restricted (user
`preflight-deployer`, Role `deployer` in restricted_namespace only), restricted_namespace, server,
nodes, kubectl, simulate_annotation, logs (component -> log path).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

from deploysafe_testenv.env import Service, ServiceInfo
from deploysafe_testenv.k8s import bootstrap, pki, stages
from deploysafe_testenv.k8s.api import ApiClient, http_ok, insecure_loopback_context
from deploysafe_testenv.k8s.kubeconfig import kubeconfig, write_kubeconfig
from deploysafe_testenv.process import ServiceError, free_port, log_tail, spawn, stop_group, wait_until

BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
SERVICE_CIDR, SERVICE_IP = "10.96.0.0/16", "10.96.0.1"
POD_CIDR, NODE_IP = "10.244.0.0/16", "10.243.0.1"  # fake addresses, nothing listens there
START_TIMEOUT = 120.0   # the API server needs ~10-30 s of CPU; 2 shared cores can make that slow
COMPONENT_TIMEOUT = 90.0


def missing_binaries(cache_dir: Path) -> List[str]:
    """Which control-plane binaries `make k8s-bins` has not built (yet) into cache_dir/bin."""
    return [b for b in BINARIES if not (cache_dir / "bin" / b).exists()]


def _distinct_free_ports(count: int) -> List[int]:
    """free_port() may hand out a port it just gave (each probe socket is closed again)."""
    ports: List[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


class KubernetesService(Service):
    name = "k8s"

    def start(self) -> ServiceInfo:
        bindir = self.env.cache_dir / "bin"
        missing = missing_binaries(self.env.cache_dir)
        if missing:
            raise ServiceError(f"Kubernetes binaries missing in {bindir}: {', '.join(missing)}; "
                               "build them with: make k8s-bins")
        self.bindir = bindir
        self.procs: List[Tuple[str, subprocess.Popen]] = []
        self.logs: Dict[str, str] = {}
        try:
            return self._start()
        except BaseException as exc:
            tails = "\n".join(f"--- {name}: last lines of {path} ---\n{log_tail(Path(path), 20)}"
                              for name, path in self.logs.items())
            for _, proc in reversed(self.procs):
                stop_group(proc.pid)
            if isinstance(exc, ServiceError):
                raise ServiceError(f"{exc}\n{tails}") from None
            if isinstance(exc, Exception):  # e.g. an API call of the bootstrap answered an error
                detail = exc.read().decode(errors="replace")[:500] if hasattr(exc, "read") else ""
                raise ServiceError(f"Kubernetes bootstrap failed: {type(exc).__name__}: {exc} {detail}\n{tails}") from exc
            raise

    def _spawn(self, name: str, argv: List[str], env: Dict[str, str] = None) -> subprocess.Popen:
        log = self.dir / f"{name}.log"
        self.logs[name] = str(log)
        proc = spawn([str(self.bindir / argv[0])] + argv[1:], log, env=env, attached=self.env.attached)
        self.procs.append((name, proc))
        return proc

    def _start(self) -> ServiceInfo:
        d = self.dir
        pki_dir = d / "pki"
        pki_dir.mkdir(exist_ok=True)
        ca = pki.CertificateAuthority(pki_dir)
        serving = ca.issue("apiserver", "kube-apiserver", server=True, **pki.apiserver_serving_names(SERVICE_IP))
        admin = ca.issue("admin", "deploysafe-admin", orgs=["system:masters"])
        restricted = ca.issue("restricted", bootstrap.RESTRICTED_USER, orgs=[bootstrap.RESTRICTED_GROUP])
        sa = pki.service_account_key(pki_dir)

        etcd_port, peer_port, api_port, kcm_port, sched_port, kwok_port = _distinct_free_ports(6)
        server = f"https://127.0.0.1:{api_port}"
        admin_kc = write_kubeconfig(d / "admin.kubeconfig", kubeconfig(server, ca.files.cert_pem(), admin))
        restricted_kc = write_kubeconfig(
            d / "restricted.kubeconfig",
            kubeconfig(server, ca.files.cert_pem(), restricted, user=bootstrap.RESTRICTED_USER,
                       namespace=bootstrap.RESTRICTED_NAMESPACE))

        etcd_url, peer_url = f"http://127.0.0.1:{etcd_port}", f"http://127.0.0.1:{peer_port}"
        etcd = self._spawn("etcd", [
            "etcd", "--name=node0", f"--data-dir={d / 'etcd-data'}",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=node0={peer_url}", "--unsafe-no-fsync=true", "--log-level=warn"])
        wait_until("etcd", lambda: http_ok(f"{etcd_url}/health"), timeout=COMPONENT_TIMEOUT, proc=etcd,
                   log_path=Path(self.logs["etcd"]))

        apiserver = self._spawn("kube-apiserver", [
            "kube-apiserver", f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1", f"--secure-port={api_port}",
            # No default route here: without an explicit advertise address the API server refuses
            # to start; a loopback one needs the endpoint reconciler off.
            "--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none",
            f"--cert-dir={d / 'apiserver-certs'}",
            f"--tls-cert-file={serving.cert}", f"--tls-private-key-file={serving.key}",
            f"--client-ca-file={ca.files.cert}",
            "--authorization-mode=RBAC,Node",  # the default is AlwaysAllow
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={sa.cert}", f"--service-account-signing-key-file={sa.key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}", "--allow-privileged=true", "--profiling=false"])
        api = ApiClient(server, ca.files.cert, admin)
        wait_until("kube-apiserver /readyz", lambda: api.text_ok("/readyz"), timeout=START_TIMEOUT,
                   proc=apiserver, log_path=Path(self.logs["kube-apiserver"]), interval=0.25)

        auth = [f"--kubeconfig={admin_kc}", f"--authentication-kubeconfig={admin_kc}",
                f"--authorization-kubeconfig={admin_kc}", "--bind-address=127.0.0.1", "--leader-elect=false"]
        kcm = self._spawn("kube-controller-manager", [
            "kube-controller-manager", *auth, f"--secure-port={kcm_port}",
            f"--service-account-private-key-file={sa.key}", f"--root-ca-file={ca.files.cert}"])
        sched = self._spawn("kube-scheduler", ["kube-scheduler", *auth, f"--secure-port={sched_port}"])
        kwok_dir = d / "kwok"
        kwok_dir.mkdir(exist_ok=True)
        kwok = self._spawn("kwok", [
            "kwok", f"--kubeconfig={admin_kc}", f"--config={stages.write_kwok_config(d / 'kwok-stages.yaml')}",
            "--manage-all-nodes=true", f"--cidr={POD_CIDR}", f"--node-ip={NODE_IP}",
            "--node-lease-duration-seconds=40", f"--server-address=127.0.0.1:{kwok_port}"],
            # kwok also loads ~/.kwok/kwok.yaml (or $KWOK_WORKDIR/kwok.yaml): keep it to our own dir.
            env={**os.environ, "KWOK_WORKDIR": str(kwok_dir)})
        loopback = insecure_loopback_context()
        for name, proc, url in (("kube-controller-manager", kcm, f"https://127.0.0.1:{kcm_port}/healthz"),
                                ("kube-scheduler", sched, f"https://127.0.0.1:{sched_port}/healthz"),
                                ("kwok", kwok, f"http://127.0.0.1:{kwok_port}/healthz")):
            wait_until(name, lambda url=url: http_ok(url, loopback), timeout=COMPONENT_TIMEOUT, proc=proc,
                       log_path=Path(self.logs[name]), interval=0.25)

        bootstrap.create_restricted_access(api)
        nodes = bootstrap.create_fake_nodes(api)
        wait_until("fake nodes Ready and untainted", lambda: bootstrap.nodes_schedulable(api, nodes),
                   timeout=COMPONENT_TIMEOUT, proc=kwok, log_path=Path(self.logs["kwok"]), interval=0.25)
        for ns in ("default", bootstrap.RESTRICTED_NAMESPACE):
            wait_until(f"service account default in {ns}",
                       lambda ns=ns: bootstrap.default_service_account_exists(api, ns),
                       timeout=COMPONENT_TIMEOUT, proc=kcm, log_path=Path(self.logs["kube-controller-manager"]),
                       interval=0.25)

        kubectl = self.bindir / "kubectl"
        return ServiceInfo(
            name=self.name, pids=[p.pid for _, p in self.procs],
            ports=[etcd_port, peer_port, api_port, kcm_port, sched_port, kwok_port],
            exports={"KUBECONFIG": str(admin_kc), "DEPLOYSAFE_K8S_SERVER": server,
                     "DEPLOYSAFE_K8S_KUBECONFIG_RESTRICTED": str(restricted_kc),
                     "DEPLOYSAFE_K8S_RESTRICTED_NAMESPACE": bootstrap.RESTRICTED_NAMESPACE},
            data={"kubeconfig": str(admin_kc), "kubeconfig_restricted": str(restricted_kc),
                  "restricted_namespace": bootstrap.RESTRICTED_NAMESPACE,
                  "restricted_user": bootstrap.RESTRICTED_USER, "server": server, "nodes": nodes,
                  "kubectl": str(kubectl) if kubectl.exists() else "",
                  "simulate_annotation": stages.SIMULATE_ANNOTATION, "pod_cidr": POD_CIDR,
                  "logs": dict(self.logs)},
        )
