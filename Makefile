# callcenter: run `make help` for the list of targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ENGINE := $(VENV)/.installed-engine

.DEFAULT_GOAL := help
.PHONY: help install test lint typecheck fmt db-upgrade demo bench soak fuzz clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

define VENV_READY
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11+ is needed (found: $$($(PYTHON) --version 2>&1))"; exit 1; }
	@test -x $(BIN)/python || { $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/python -m pip install --quiet --upgrade pip; } || \
	  { echo "cannot create a virtualenv: on Debian run 'apt-get install python3-venv'"; exit 1; }
endef

# the engine alone (what `make demo` needs), or with the dev tools (tests, linters)
$(ENGINE): pyproject.toml
	$(VENV_READY)
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then :; else \
	  echo "installing the engine into $(VENV)"; $(BIN)/python -m pip install --quiet -e .; fi
	@touch $(ENGINE)

$(STAMP): pyproject.toml
	$(VENV_READY)
	@echo "installing the engine and its dev tools into $(VENV)"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP) $(ENGINE)

install: $(STAMP) ## Create .venv and install the engine with its dev tools

test: $(STAMP) ## Run every test, one pytest process per core (needs PostgreSQL on 127.0.0.1:5432, see README)
	$(BIN)/python tests/shards.py

lint: $(STAMP) ## ruff: lint and formatting check
	$(BIN)/ruff check callcenter tests migrations
	$(BIN)/ruff format --check callcenter tests migrations

typecheck: $(STAMP) ## mypy (strict) on callcenter/
	$(BIN)/mypy

fmt: $(STAMP) ## Format and auto-fix with ruff
	$(BIN)/ruff format callcenter tests migrations
	$(BIN)/ruff check --fix callcenter tests migrations

db-upgrade: $(ENGINE) ## Migrate the configured database (CALLCENTER_DATABASE_URL) to head
	$(BIN)/callcenter db upgrade

demo: $(ENGINE) ## Run the engine on its embedded defaults (SQLite, simulator); Ctrl-C stops it
	$(BIN)/callcenter demo

BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

bench: $(STAMP) ## Run the benchmarks (about an hour and a half, PostgreSQL on BENCH_DATABASE_URL) and print figures beside their targets
	@for b in acd esl_ingest; do echo "== tests/benchmarks/bench_$$b.py"; \
	  $(BIN)/python tests/benchmarks/bench_$$b.py || exit 1; done
	@echo "== tests/benchmarks/bench_writer.py"
	$(BIN)/python tests/benchmarks/bench_writer.py --database-url $(BENCH_DATABASE_URL)
	@echo "== tests/benchmarks/bench_webhooks.py (events delivered per second, 1 and 4 endpoints)"
	$(BIN)/python tests/benchmarks/bench_webhooks.py --database-url $(BENCH_DATABASE_URL)
	$(BIN)/python tests/benchmarks/bench_webhooks.py --endpoints 4 --database-url $(BENCH_DATABASE_URL)
	@echo "== tests/benchmarks/bench_calls.py --table (playback 10/30/100 calls/s, queue 1/5/20)"
	$(BIN)/python tests/benchmarks/bench_calls.py --table --database-url $(BENCH_DATABASE_URL)
	@echo "== tests/benchmarks/bench_api.py (API p99 at 50 calls/s, 200 SSE clients when the stream exists)"
	$(BIN)/python tests/benchmarks/bench_api.py --database-url $(BENCH_DATABASE_URL)
	@echo "== tests/benchmarks/bench_reports.py (a month of a 50-agent centre, ~1M CDRs, reported in < 2 s; docs/kpis.md)"
	$(BIN)/python tests/benchmarks/bench_reports.py --database-url $(BENCH_DATABASE_URL)
	@echo "== tests/benchmarks/bench_ewt.py (estimated wait accuracy at loads 0.7/0.85/0.95, ~16 min; docs/waiting.md)"
	$(BIN)/python tests/benchmarks/bench_ewt.py
	@echo "== tests/benchmarks/bench_dialer.py (8-hour outbound shifts, 5/20/50 agents, seeds 1-3, 25-30 min of CPU; docs/dialer.md)"
	$(BIN)/python tests/benchmarks/bench_dialer.py
	@echo "== tests/benchmarks/bench_lead_import.py (a 1M-row lead file in, then again: time and peak RSS; docs/dialer.md)"
	$(BIN)/python tests/benchmarks/bench_lead_import.py --database-url $(BENCH_DATABASE_URL)
	@echo "== tests/benchmarks/bench_lead_claim.py (the dialer's pick among 1M pending leads, plain and past 2,000/20,000 closed ones; docs/dialer.md)"
	$(BIN)/python tests/benchmarks/bench_lead_claim.py --database-url $(BENCH_DATABASE_URL)
	@echo "== tests/benchmarks/bench_staffing.py (Erlang C/A plans vs the simulator, 3 levels, ~20 min; docs/staffing.md)"
	$(BIN)/python tests/benchmarks/bench_staffing.py

SOAK_ARGS ?=
soak: $(STAMP) ## Chaos run (SIGKILLs, ESL drops, PostgreSQL cuts; 10 min, 5 calls/s) ending with the invariant checks; SOAK_ARGS='--duration 120'
	$(BIN)/python tests/benchmarks/soak.py $(SOAK_ARGS)

FUZZ_EXAMPLES ?= 20000
FUZZ_SECONDS  ?= 600
fuzz: $(STAMP) ## Fuzz ESL framing and event decoding longer: hypothesis (FUZZ_EXAMPLES per test), then atheris for FUZZ_SECONDS (hypothesis only where atheris does not install)
	CALLCENTER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/unit/esl/test_fuzz.py -q -p no:cacheprovider --timeout=0
	@mkdir -p var/fuzz/corpus
	@if $(BIN)/python -m pip install --quiet 'atheris>=2.3'; then \
	  echo "== atheris, $(FUZZ_SECONDS) s (crashes go to var/fuzz/)"; \
	  $(BIN)/python -m tests.unit.esl.atheris_fuzz var/fuzz/corpus -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=var/fuzz/ -print_final_stats=1; \
	else echo "atheris does not install here: hypothesis only"; fi

clean: ## Remove the virtualenv, caches and demo data
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var build *.egg-info
