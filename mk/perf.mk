# Performance gate: k6 built from its Go module (only for engine=k6 and its tests/benchmarks).
K6_VERSION := v2.2.0

$(CACHE)/bin/k6:
	@mkdir -p $(CACHE)/bin $(CACHE)/k6-build
	@echo "building k6 $(K6_VERSION) from its Go module (cold: several minutes)"
	cd $(CACHE)/k6-build && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -o $(CACHE)/bin/k6 \
	    go.k6.io/k6/v2@$(K6_VERSION) 2>/dev/null || \
	  { cd /tmp && CGO_ENABLED=0 GOBIN=$(CACHE)/k6-build GOFLAGS=-buildvcs=false go install -trimpath go.k6.io/k6/v2@$(K6_VERSION) \
	    && mv $(CACHE)/k6-build/v2 $(CACHE)/bin/k6; } || { echo "k6 build failed; retry with: make k6"; exit 1; }

.PHONY: k6 bench-load
k6: $(CACHE)/bin/k6

bench-load: venv collection-link
	$(PY) benchmarks/load/bench.py
