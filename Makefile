# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STUDY ?= studies/default
TRIALS ?= 10
EPOCHS ?= 4

.PHONY: run dashboard docs test install install-dev browser lint typecheck clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## Debian's Chromium for the browser tests (skipped where apt is unavailable).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: could not install chromium; browser tests will be skipped"; \
	else echo "warning: /usr/bin/chromium missing and apt-get unavailable; browser tests will be skipped"; fi

run: install
	$(BIN)/symtuner run --study-dir $(STUDY) --trials $(TRIALS) --epochs $(EPOCHS)

## The dashboard of the study `make run` made (PORT=8050), until Ctrl-C.
PORT ?= 8050
dashboard: install
	$(BIN)/symtuner dashboard $(STUDY) --port $(PORT)

## The user guide (docs/, mkdocs.yml) as a site in site/; every link checked.
docs: install-dev
	$(BIN)/mkdocs build --strict

test: install-dev browser
	$(BIN)/python -m pytest tests

## ruff, mypy, and import-linter's layers contract (pyproject.toml: [tool.importlinter])
lint: install-dev
	$(BIN)/ruff check symtuner tests
	$(BIN)/mypy symtuner
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) studies build site *.egg-info
