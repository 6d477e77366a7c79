# Every target creates .venv first when it is missing; CI runs the same targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RELEASE ?= latest

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv with the pinned dependencies

report: $(STAMP) ## Render the report of a release (RELEASE=latest) into reports/<release>/
	$(BIN)/chip-supply report --release $(RELEASE)

test: $(STAMP) ## Run the whole test suite (unit, data, notebooks, CLI, browser)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

validate: $(STAMP) ## Validate every release and the draft
	$(BIN)/chip-supply validate --release all
	$(BIN)/chip-supply validate --draft

lab: $(STAMP) ## Start JupyterLab on notebooks/ (the .py files open as notebooks)
	$(BIN)/jupyter lab notebooks/ --LabApp.app_settings_dir=$(CURDIR)/jupyter/lab-settings \
		$(if $(filter 0,$(shell id -u)),--allow-root,)

bench: $(STAMP) ## Run the full benchmark suite (1e5-1e7 rows; minutes)
	$(BIN)/python -m benchmarks

bench-quick: $(STAMP) ## Run the benchmarks at 1e5 rows, memory at 1e7 (about three minutes)
	$(BIN)/python -m benchmarks --quick

screenshots: $(STAMP) ## Render the report (RELEASE=latest) and save a 1400 px screenshot of each page into docs/screenshots/
	$(BIN)/python docs/screenshots.py --release $(RELEASE)

lint: $(STAMP) ## ruff on the package, tests and benchmarks
	$(BIN)/ruff check analytics tests benchmarks

clean: ## Remove .venv and rendered reports
	rm -rf $(VENV) reports

.PHONY: help venv report test validate lab bench bench-quick screenshots lint clean
