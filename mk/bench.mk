# `make bench`: every benchmark in benchmarks/, one ratio table (peer / ours, > 1 means ours is better) with
# the load average of each row. Short settings by default (a few minutes each); BENCH_ARGS="--full" runs
# each benchmark's documented settings, BENCH_ARGS="--only s3,load" a subset, BENCH_ARGS="--no-run" reprints
# the last results. Peers that are missing (wrk, k6, gitleaks, kwokctl...) leave their rows out with a reason.
BENCH_ARGS ?=

.PHONY: bench
bench: venv collection-link
	$(PY) benchmarks/summary.py $(BENCH_ARGS)
