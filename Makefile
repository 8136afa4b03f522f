# longhaul — make help lists the targets. Every target installs what it needs on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# SAM CLI in its own venv: it pins an older botocore than moto and the layer want.
SAM_CLI_VERSION := 1.170.0
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed-$(SAM_CLI_VERSION)
NODE_STAMP := node_modules/.installed
# checkov in its own venv: its pins (boto3, pydantic, ...) would fight the project's.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
# Strands Agents in its own venv: it pins mcp<2.2, while longhaul serves MCP with the current SDK. The recall test
# restores longhaul's memory events with Strands' own converter there.
STRANDS_VENV := .venv-strands
STRANDS_STAMP := $(STRANDS_VENV)/.installed
# sam build needs the Lambda runtime's Python (3.13) on PATH. Where pyenv has a 3.13 but it is not on PATH, expose
# it next to the default version (expanded only by the targets that use it).
PY313_ENV = $(shell python3.13 -c '' 2>/dev/null || { v=$$(pyenv versions --bare 2>/dev/null | grep -E '^3\.13' | tail -1); \
	[ -n "$$v" ] && echo "PYENV_VERSION=$$(pyenv version-name):$$v"; })

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv with longhaul (editable) and the development tools

$(SAM_STAMP):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)
	touch $(SAM_STAMP)

$(STRANDS_STAMP):
	$(PYTHON) -m venv $(STRANDS_VENV)
	$(STRANDS_VENV)/bin/pip install --quiet --upgrade pip
	$(STRANDS_VENV)/bin/pip install --quiet "strands-agents==1.62.0" "bedrock-agentcore==1.25.0"
	touch $(STRANDS_STAMP)

$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $(CHECKOV_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

# The external checkers, each its own target so that `make -j` runs them side by side (`make test` does).
VALIDATE_TOOLS := validate-sam validate-sam-lint validate-checkov validate-asl

validate-sam: $(SAM_STAMP)
	AWS_EC2_METADATA_DISABLED=true $(SAM) validate --region us-east-1

# cfn-lint, as SAM CLI pins it: what `sam validate --lint` runs for users is the one lint run.
validate-sam-lint: $(SAM_STAMP)
	AWS_EC2_METADATA_DISABLED=true $(SAM) validate --lint

# Every skip is justified next to its resource (Metadata.checkov.skip); offline: no guideline download.
validate-checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

validate-asl: $(STAMP) $(NODE_STAMP)  # substitutions filled (some are numbers)
	rm -rf .aws-sam/asl && $(BIN)/python -m longhaul_dev.template .aws-sam/asl
	for asl in .aws-sam/asl/*.asl.json; do ./node_modules/.bin/asl-validator --json-path "$$asl" || exit 1; done

# The template's own tests (moto's parser, IAM, dry run); `make test` runs them within the whole suite.
VALIDATE_TESTS := tests/unit/test_template.py tests/unit/test_deploy.py tests/unit/test_handlers.py \
	tests/integration/test_dry_run.py

validate: $(VALIDATE_TOOLS) ## Check template.yaml and the ASL: sam validate, sam validate --lint (cfn-lint), checkov, asl-validator, moto's parser, IAM, dry run
	$(BIN)/pytest -q -p no:cacheprovider $(VALIDATE_TESTS)

build: $(STAMP) $(SAM_STAMP) ## sam build for Lambda (arm64, python3.13, .pyc; no Docker), then check the built layer
	$(PY313_ENV) $(SAM) build
	$(PY313_ENV) $(BIN)/python -m longhaul_dev.build_check

invoke: $(STAMP) ## Run a handler in-process, no Docker: make invoke FUNCTION=RunStepFunction EVENT=events/... [ARGS=--aws]
	@[ -n "$(FUNCTION)" ] && [ -n "$(EVENT)" ] || { echo "usage: make invoke FUNCTION=<LogicalId> EVENT=<event.json> [ARGS=...]"; exit 2; }
	$(BIN)/longhaul invoke $(FUNCTION) -e $(EVENT) $(ARGS)

requirements: $(STAMP) ## Regenerate the layer's requirements.txt from pyproject.toml
	$(BIN)/python -m longhaul_dev.requirements write

lint: $(STAMP) ## ruff (lint + format check), mypy, and the layer requirements drift check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m longhaul_dev.requirements check

format: $(STAMP) ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make test` runs lint, the external template checkers and the suite side by side (the suite holds validate's
# own tests), the suite itself over TEST_WORKERS processes (pytest-xdist). --dist loadscope keeps each module in one
# process, so a module-scoped dev server or conformance run is made once; the slowest modules start first (the
# order is conftest.py's, hence --no-loadscope-reorder). (loadgroup would split modules finer, but pytest-xdist 3.8
# cannot tag the node ids of pytest 9.2, so its groups are ignored; conftest.py groups modules that must share a
# process itself.) Four processes on two cores: much of the suite waits (on dev servers, Node, Strands, workflow
# sleeps), and four finished ~10 s sooner than three for ~4% more CPU (measured with `make suite`).
TEST_WORKERS ?= 4
# Bytecode caches (.pyc in the gitignored __pycache__ folders; sam build leaves them out) are written even where the
# environment turns them off (PYTHONDONTWRITEBYTECODE): otherwise every test process and every `longhaul dev`
# compiles longhaul's code again, and pytest rewrites every test module again (~3.5 CPU-s per process).
test suite: export PYTHONDONTWRITEBYTECODE :=
# Node 22 keeps the code it compiles for the suite's Node processes (the 18 conformance scenarios, the TS clients,
# the Inspector, mcp-remote) in this gitignored folder, so that a start after the first compiles less.
test suite conformance: export NODE_COMPILE_CACHE := $(CURDIR)/node_modules/.cache/node-compile

test: $(STAMP) $(SAM_STAMP) $(NODE_STAMP) $(CHECKOV_STAMP) $(STRANDS_STAMP) ## The whole suite: lint, validate, unit and integration tests (e2e only with AWS_SAM_STACK_NAME)
	$(MAKE) --no-print-directory -j --output-sync=target lint $(VALIDATE_TOOLS) suite

suite: $(STAMP) $(NODE_STAMP) $(STRANDS_STAMP) ## Only the pytest suite, over TEST_WORKERS processes (no lint, no external checkers)
	LONGHAUL_STRANDS_PYTHON=$(STRANDS_VENV)/bin/python $(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

reliability: $(STAMP) ## Run the fault matrix and write docs/reliability.md from it
	$(BIN)/pytest -q -p no:cacheprovider tests/integration/test_faults.py --reliability-report docs/reliability.md

dev: $(STAMP) ## Run the whole system locally on moto; MCP at http://127.0.0.1:8765/mcp
	$(BIN)/longhaul dev

clean: ## Remove the virtual environments and build output
	rm -rf $(VENV) .venv-sam .venv-strands .venv-mcp1 .venv-checkov .aws-sam node_modules .pytest_cache .ruff_cache .mypy_cache

.PHONY: help install requirements lint format validate build invoke test reliability conformance dev clean suite \
	$(VALIDATE_TOOLS)

# 2025-11-25 task clients on the mcp 1.x line (the Python SDK 1.x and Strands Agents on it) in their own venv: longhaul
# serves with mcp 2.x, whose client no longer speaks the experimental tasks utility. The TypeScript SDK 1.x client
# comes from package.json (node_modules).
MCP1_VENV := .venv-mcp1
MCP1_STAMP := $(MCP1_VENV)/.installed

$(MCP1_STAMP):
	$(PYTHON) -m venv $(MCP1_VENV)
	$(MCP1_VENV)/bin/pip install --quiet --upgrade pip
	$(MCP1_VENV)/bin/pip install --quiet "mcp==1.30.0" "strands-agents==1.62.0"
	touch $(MCP1_STAMP)

test-task-clients: $(STAMP) $(NODE_STAMP) $(MCP1_STAMP) ## Only the 2025-11-25 task client tests (TS SDK 1.x, Python SDK 1.x, Strands on mcp 1.x)
	LONGHAUL_MCP1_PYTHON=$(MCP1_VENV)/bin/python $(BIN)/pytest -q tests/integration/test_tasks_2025.py tests/integration/test_tasks_2025_clients.py

# `make test` installs them too (the tests find .venv-mcp1 at its default path).
test: $(MCP1_STAMP)
suite: $(MCP1_STAMP)

.PHONY: test-task-clients

conformance: $(STAMP) $(NODE_STAMP) ## Run the MCP conformance suite against longhaul dev --conformance; rewrite docs/conformance.md
	$(BIN)/python -m longhaul_dev.conformance_report

# Benchmarks (benchmarks/run.py): each figure beside its anchor and target, written to docs/performance.md. The full
# run also times `make test`, so it installs what the suite needs first (deps) and times the suite alone. It builds
# first: the cold starts and layer sizes are measured on the built layers, as Lambda runs them.
deps: $(STAMP) $(SAM_STAMP) $(NODE_STAMP) $(CHECKOV_STAMP) $(STRANDS_STAMP) $(MCP1_STAMP) ## Install everything make test uses, without running it

bench: deps build ## Build, run every benchmark and time make test; print each figure against its target; write docs/performance.md
	$(BIN)/python -m benchmarks.run --suite $(ARGS)

bench-quick: $(STAMP) ## The benchmarks in short, without make test; prints the table, writes no report
	$(BIN)/python -m benchmarks.run --quick --output "" $(ARGS)

.PHONY: deps bench bench-quick
