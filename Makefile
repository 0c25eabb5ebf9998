# make mock: run the mock at http://127.0.0.1:4010   make test: run every test   make docs: the documentation site
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SERVE_STAMP := $(VENV)/.installed-serve
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.docs-installed
HOST ?= 127.0.0.1
PORT ?= 4010

REPORTS := reports

.PHONY: install mock proxy test contract mutation bench lifecycles startup lint docs clean

install: $(STAMP)

# Reinstall whenever pyproject.toml or this file changes. `python3.11 -m venv` seeds
# setuptools 65.5, which has known CVEs: upgrade it with pip. `make mock` installs what
# serving needs, `make test` (and every target that runs tools) the test tools too.
$(SERVE_STAMP): pyproject.toml Makefile
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found; run with PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(STAMP): $(SERVE_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# make mock SPEC=FILE serves any OpenAPI 3.0/3.1 document instead of openapi.yaml;
# WATCH=1 reloads the fixtures and the document when their files change; WORKERS=N serves
# from N processes (the state in one more), for load: docs/11-performance.md.
mock: $(SERVE_STAMP)
	$(BIN)/mockserver serve --host $(HOST) --port $(PORT) $(if $(SPEC),--spec $(SPEC)) $(if $(WATCH),--watch) $(if $(WORKERS),--workers $(WORKERS))

# The validating proxy: make proxy UPSTREAM=https://staging.example.com [PROXY_PORT=4011]
# forwards to UPSTREAM and checks every exchange against the contract (README).
PROXY_PORT ?= 4011
proxy: $(SERVE_STAMP)
	@test -n "$(UPSTREAM)" || { echo "usage: make proxy UPSTREAM=https://..."; exit 2; }
	$(BIN)/mockserver proxy --upstream $(UPSTREAM) --host $(HOST) --port $(PROXY_PORT) $(if $(SPEC),--spec $(SPEC))

# The mock's own tests on two cores (pytest-xdist), then the proof of teeth: the whole
# contract suite against the mock in both configurations, then against every mutant (its
# runs go two at a time already; its table is printed at the end).
test: $(STAMP)
	$(BIN)/python -m pytest tests -n 2 --ignore=tests/process/test_contract_suite.py --junitxml=$(REPORTS)/tests-junit.xml
	$(BIN)/python -m pytest tests/process/test_contract_suite.py --junitxml=$(REPORTS)/proof-junit.xml

# The contract suite against any implementation: make contract BASE_URL=https://...
# [SPEC=FILE] (without BASE_URL it starts the mock itself; without SPEC it checks
# openapi.yaml with its scenarios, with one the lifecycle checks and generated cases of
# that document). See docs/09-contract-suite.md for the CONTRACT_* variables.
contract: $(STAMP)
	$(BIN)/python -m pytest contract_tests -rfEs $(if $(BASE_URL),--base-url=$(BASE_URL)) \
		$(if $(SPEC),--spec=$(SPEC)) --junitxml=$(REPORTS)/contract-junit.xml

# Mutation testing of the mock's core with mutmut (long: not part of `make test`). Prints
# the score, and fails on a surviving mutant neither killed nor listed as equivalent in
# tests/mutation-equivalents.txt. `.venv/bin/mutmut browse` shows the mutants.
mutation: $(STAMP)
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python tests/mutation_report.py

# The mock side by side with Prism and a bare Flask app under wrk (figures, not assertions);
# e.g. make bench BENCH_ARGS="--rounds 1 --seconds 3 --soak-requests 0" for a quick look.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

# The contract suite's lifecycle checks against the mock and Prism on one document:
# make lifecycles [SPEC=FILE] (default tests/specs/bookings.yaml; figures, not assertions).
lifecycles: $(STAMP)
	$(BIN)/python benchmarks/lifecycles.py $(if $(SPEC),--spec $(SPEC))

# Start-up of the mock and of Prism on one document: make startup SPEC=FILE (figures only).
startup: $(STAMP)
	$(BIN)/python benchmarks/startup.py $(if $(SPEC),--spec $(SPEC))

# The style, the import layers (pyproject.toml's [tool.importlinter]: no cycles, no stage
# importing one above it) and the documentation site, built with --strict.
lint: $(STAMP) $(DOCS_STAMP)
	$(BIN)/ruff check mockserver contract_tests tests benchmarks
	$(BIN)/ruff format --check mockserver contract_tests tests benchmarks
	$(BIN)/lint-imports
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# The documentation site (docs/, mkdocs.yml) into site/; --strict: any warning (a broken
# link or anchor, a page missing from the nav) fails the build.
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	@touch $@

docs: $(DOCS_STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .hypothesis reports mutants site
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
