VENV := .venv
PYTHON := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SERVE_STAMP := $(VENV)/.serve.stamp
TEST_STAMP := $(VENV)/.test.stamp
INI ?= config/kinto.ini

.DEFAULT_GOAL := help
.PHONY: help install serve migrate test coverage lint format clean bench bench-compare bench-scaling bench-workers bench-stream bench-write-cost bench-metrics-cost bench-metrics-instructions bench-history-trim bench-admin bench-soak screenshots compat

help:  ## Show this help.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(SERVE_STAMP): setup.py | $(VENV)/bin/python
	$(PIP) install --quiet -e '.[postgresql,redis,memcached,monitoring,openid,s3]'
	touch $@

$(TEST_STAMP): setup.py | $(VENV)/bin/python
	$(PIP) install --quiet -e '.[postgresql,redis,memcached,monitoring,openid,s3,test]'
	touch $@ $(SERVE_STAMP)

install: $(SERVE_STAMP)  ## Create .venv and install the server.

serve: $(SERVE_STAMP)  ## Serve config/kinto.ini (127.0.0.1:8888); INI=... for another file, PORT=... for another port.
	$(VENV)/bin/kinto_server start --ini $(INI) $(if $(PORT),--port $(PORT))

migrate: $(SERVE_STAMP)  ## Create or upgrade the PostgreSQL schema of config/postgresql.ini (INI=...).
	$(VENV)/bin/kinto_server migrate --ini $(if $(filter config/kinto.ini,$(INI)),config/postgresql.ini,$(INI))

test: $(TEST_STAMP)  ## Set up PostgreSQL and its test database, Redis, memcached, nginx and Chromium, then run the whole test suite.
	@bash .ci/ensure-postgresql || { [ "$$CI" != "true" ] && echo "PostgreSQL could not be set up: its tests will be skipped."; }
	@bash .ci/ensure-chromium || { [ "$$CI" != "true" ] && echo "Chromium could not be installed: the browser tests will be skipped."; }
	@bash .ci/ensure-redis || { [ "$$CI" != "true" ] && echo "Redis could not be set up: its tests will be skipped."; }
	@bash .ci/ensure-memcached || { [ "$$CI" != "true" ] && echo "memcached could not be set up: its tests will be skipped."; }
	@bash .ci/ensure-nginx || { [ "$$CI" != "true" ] && echo "nginx could not be installed: its tests will be skipped."; }
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Coverage's tracer makes the suite 1.7x slower (schemathesis: 44 -> 73 s):
# kept out of `make test`, which must stay under 12 minutes on 2 cores.
coverage: $(TEST_STAMP)  ## The whole test suite with a coverage report (slower than make test).
	@bash .ci/ensure-postgresql || { [ "$$CI" != "true" ] && echo "PostgreSQL could not be set up: its tests will be skipped."; }
	@bash .ci/ensure-chromium || { [ "$$CI" != "true" ] && echo "Chromium could not be installed: the browser tests will be skipped."; }
	@bash .ci/ensure-redis || { [ "$$CI" != "true" ] && echo "Redis could not be set up: its tests will be skipped."; }
	@bash .ci/ensure-memcached || { [ "$$CI" != "true" ] && echo "memcached could not be set up: its tests will be skipped."; }
	@bash .ci/ensure-nginx || { [ "$$CI" != "true" ] && echo "nginx could not be installed: its tests will be skipped."; }
	$(VENV)/bin/pytest --cov=kinto_server --cov-report=term:skip-covered $(PYTEST_ARGS)

lint: $(TEST_STAMP)  ## Check style with ruff.
	$(VENV)/bin/ruff check kinto_server tests bench docs
	$(VENV)/bin/ruff format --check kinto_server tests bench docs

format: $(TEST_STAMP)  ## Reformat the code with ruff.
	$(VENV)/bin/ruff check --fix kinto_server tests bench docs
	$(VENV)/bin/ruff format kinto_server tests bench docs

clean:  ## Remove the virtualenv and caches.
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .coverage htmlcov
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

bench: $(TEST_STAMP)  ## Benchmark our server (BACKEND=memory|sqlite|postgresql, DURATION=10, ROUNDS=1: turns per scenario, medians).
	$(PYTHON) bench/run.py --backend $(or $(BACKEND),memory) --duration $(or $(DURATION),10) --rounds $(or $(ROUNDS),1)

bench-compare: $(TEST_STAMP)  ## Benchmark side by side with Kinto 26 (bench/kinto-venv; BACKEND=sqlite adds ours on memory, Kinto on PostgreSQL).
	$(PYTHON) bench/run.py --compare --backend $(or $(BACKEND),memory) --duration $(or $(DURATION),10) --rounds $(or $(ROUNDS),1)

bench-workers: $(TEST_STAMP)  ## Scenarios with one server process and with WORKERS (2) processes (BACKEND=postgresql|sqlite).
	$(PYTHON) bench/run.py --backend $(or $(BACKEND),postgresql) --workers $(or $(WORKERS),2) --duration $(or $(DURATION),10)

bench-scaling: $(TEST_STAMP)  ## List costs for 1k to 1M records (first page, _since, filter, data-field sort, HEAD count, full walk), through HTTP (BACKEND=postgresql|sqlite).
	$(PYTHON) bench/scaling.py --backend $(or $(BACKEND),postgresql) --duration $(or $(DURATION),5)

bench-stream: $(TEST_STAMP)  ## Change stream: write-to-arrival latency at 1/100/2000 streams, memory per stream, GET throughput with 2000 open (BACKEND=sqlite|memory|postgresql).
	$(PYTHON) bench/stream.py --backend $(or $(BACKEND),sqlite) --duration $(or $(DURATION),5) --rounds $(or $(ROUNDS),3)

bench-write-cost: $(TEST_STAMP)  ## What the change stream's log costs on POST and batch writes, with the plugin vs without (BACKEND=sqlite|memory|postgresql).
	$(PYTHON) bench/plugin_cost.py --plugin stream --backend $(or $(BACKEND),sqlite) --rounds $(or $(ROUNDS),3)

bench-metrics-cost: $(TEST_STAMP)  ## What metrics cost GET one record and POST: the same server with and without PLUGIN (prometheus|statsd; BACKEND=sqlite|memory|postgresql).
	$(PYTHON) bench/plugin_cost.py --plugin $(or $(PLUGIN),prometheus) --backend $(or $(BACKEND),sqlite) --rounds $(or $(ROUNDS),5)

bench-metrics-instructions: $(TEST_STAMP)  ## The same, in CPU instructions per request counted by valgrind (repeatable to a fraction of a percent).
	$(PYTHON) bench/plugin_instructions.py --plugin $(or $(PLUGIN),prometheus) --backend $(or $(BACKEND),sqlite)

bench-soak: $(TEST_STAMP)  ## Server memory under 10 minutes of steady mixed traffic, one server per backend side by side (SOAK_SECONDS=600).
	$(PYTHON) bench/soak.py --seconds $(or $(SOAK_SECONDS),600)

bench-admin: $(TEST_STAMP)  ## The admin page in Chromium on one bucket of 5,000 groups, 100 collections, 100,000 records (BACKEND=sqlite|postgresql).
	@bash .ci/ensure-chromium
	$(PYTHON) bench/admin_page.py --backend $(or $(BACKEND),sqlite) --runs $(or $(RUNS),5)

screenshots: $(TEST_STAMP)  ## Take the admin page's screenshots of docs/ again.
	@bash .ci/ensure-chromium
	$(PYTHON) docs/screenshots.py

bench-history-trim: $(TEST_STAMP)  ## A record write with the history trimmed to 1,000 entries, in a bucket whose history holds 1,000,000 more vs one holding the 1,000 (BACKEND=postgresql|sqlite).
	@bash .ci/ensure-postgresql || true
	$(PYTHON) bench/history_trim.py --backend $(or $(BACKEND),postgresql) --entries $(or $(ENTRIES),1000000)

compat: $(TEST_STAMP)  ## Replay a corpus of requests against Kinto 26.5 and us, print every difference (BACKEND=memory|sqlite|postgresql|all).
	@bash .ci/ensure-postgresql || true
	$(PYTHON) bench/compat --backend $(or $(BACKEND),all)
