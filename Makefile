# longhaul — make help lists the targets. Every target installs what it needs on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv with longhaul (editable) and the development tools

requirements: $(STAMP) ## Regenerate the layer's requirements.txt from pyproject.toml
	$(BIN)/python -m longhaul_dev.requirements write

lint: $(STAMP) ## ruff (lint + format check) and the layer requirements drift check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m longhaul_dev.requirements check

format: $(STAMP) ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint ## The whole suite: lint, unit and integration tests (e2e runs only with AWS_SAM_STACK_NAME set)
	$(BIN)/pytest

dev: $(STAMP) ## Run the whole system locally on moto; MCP at http://127.0.0.1:8765/mcp
	$(BIN)/longhaul dev

clean: ## Remove the virtual environments and build output
	rm -rf $(VENV) .venv-sam .aws-sam node_modules .pytest_cache .ruff_cache .mypy_cache

.PHONY: help install requirements lint format test dev clean
