# `make test-floor`: the oldest ansible-core that meta/runtime.yml `requires_ansible` claims, proven by
# running sanity (ansible-test of that version) and the unit tests under it in a venv of its own.
# Not part of `make test` (it builds a second venv, ~1 min warm).
FLOOR_ANSIBLE_CORE ?= 2.18.0
FLOOR_VENV := $(CURDIR)/.cache/floor-venv

$(FLOOR_VENV)/.stamp-$(FLOOR_ANSIBLE_CORE): requirements.txt requirements-dev.txt constraints.txt
	rm -rf $(FLOOR_VENV)
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/pip install -q --upgrade pip
	@# the runtime ranges, the test runner pinned as in the dev venv, and the floor ansible-core; the
	@# dev venv's constraints minus ansible-core, the ansible package and resolvelib (its range differs per core)
	grep -vE '^(ansible|ansible-core|resolvelib)==' constraints.txt > $(FLOOR_VENV)/constraints.txt
	$(FLOOR_VENV)/bin/pip install -q -r requirements.txt -c $(FLOOR_VENV)/constraints.txt \
	    "ansible-core==$(FLOOR_ANSIBLE_CORE)" $$(grep -E '^(pytest|vermin)==' requirements-dev.txt)
	$(FLOOR_VENV)/bin/pip check
	touch $@

test-floor: collection-link $(FLOOR_VENV)/.stamp-$(FLOOR_ANSIBLE_CORE)
	@echo "ansible-core floor: $$($(FLOOR_VENV)/bin/python -c 'from ansible.release import __version__; print(__version__)')"
	PATH=$(FLOOR_VENV)/bin:$$PATH scripts/ansible-test-sanity
	@# the AWX example needs awx.awx from the `ansible` package, which this venv leaves out (its version
	@# follows ansible-core); make test syntax-checks it with the pinned one
	$(FLOOR_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/unit $(PYTEST_ARGS) \
	    --deselect "tests/unit/examples/test_examples.py::test_syntax_check[configure.yml]"

.PHONY: test-floor
