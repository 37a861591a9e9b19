# The two commands of CONTRACT.md §1. Needs only Python >= 3.11, make and a C compiler.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test install install-test clean

## run: migrate, seed, start Redis + web + worker + scheduler (Ctrl-C stops them all)
run: $(VENV)/.installed
	$(BIN)/python -m app.supervisor

## test: the whole pytest suite (PYTEST_ARGS="-m 'not slow'" to skip the full-stack tests)
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Fixline needs Python >= 3.11; $(PYTHON) is $$($(PYTHON) -V 2>&1). Try PYTHON=python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml is newer than the stamp; the test extras imply the base.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[test]'
	touch $(VENV)/.installed $@

## clean: remove the virtualenv and caches (instance/ with its database is kept)
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
