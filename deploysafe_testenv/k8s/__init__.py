"""Building blocks of the local Kubernetes control plane (service `k8s`)."""
