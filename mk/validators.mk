# Peer tools for benchmarks/validators (side-by-side accuracy and speed). Not part of `bins`:
# `make test` does not need them. Build with: make validators-bench-tools
GITLEAKS_VERSION := v8.30.1
KUBE_SCORE_VERSION := v1.20.0
KUBE_LINTER_VERSION := v0.8.3
KUBECONFORM_VERSION := v0.7.0
GO_INSTALL := cd /tmp && CGO_ENABLED=0 GOBIN=$(CACHE)/bin GOFLAGS=-buildvcs=false go install -trimpath

.PHONY: gitleaks kube-score kube-linter kubeconform validators-bench-tools bench-validators

$(CACHE)/bin/gitleaks:
	@mkdir -p $(CACHE)/bin
	$(GO_INSTALL) github.com/zricethezav/gitleaks/v8@$(GITLEAKS_VERSION)
	mv $(CACHE)/bin/v8 $@ 2>/dev/null || true

$(CACHE)/bin/kube-score:
	@mkdir -p $(CACHE)/bin
	$(GO_INSTALL) github.com/zegl/kube-score/cmd/kube-score@$(KUBE_SCORE_VERSION)

# kube-linter's module path is the vanity golang.stackrox.io, which the module proxy answers with 403;
# tools/kube-linter is a wrapper module that replaces it with github.com/stackrox/kube-linter.
$(CACHE)/bin/kube-linter:
	@mkdir -p $(CACHE)/bin
	cd tools/kube-linter && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o $@ \
	    golang.stackrox.io/kube-linter/cmd/kube-linter

$(CACHE)/bin/kubeconform:
	@mkdir -p $(CACHE)/bin
	$(GO_INSTALL) github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)

gitleaks: $(CACHE)/bin/gitleaks
kube-score: $(CACHE)/bin/kube-score
kube-linter: $(CACHE)/bin/kube-linter
kubeconform: $(CACHE)/bin/kubeconform
validators-bench-tools: gitleaks kube-score kube-linter kubeconform

bench-validators: venv collection-link validators-bench-tools
	$(PY) benchmarks/validators/bench_secrets.py
	$(PY) benchmarks/validators/bench_manifests.py
