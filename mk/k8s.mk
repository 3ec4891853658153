# Local Kubernetes control plane for tests and the demo (harness service `k8s`): kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl (tools/k8s), etcd (tools/etcd) and kwok, built from
# Go modules into $(CACHE)/bin once; a stamp file with the versions makes later runs a no-op.
# Cold build: see docs/testenv-kubernetes.md (tens of minutes on 2 cores).
K8S_VERSION := v1.36.5
ETCD_VERSION := v3.6.16
KWOK_VERSION := v0.8.0

.PHONY: k8s-bins
k8s-bins:
	@scripts/build-k8s-bins $(CACHE)/bin $(K8S_VERSION) $(ETCD_VERSION) $(KWOK_VERSION)

bins: k8s-bins
