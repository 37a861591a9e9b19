# The two commands of CONTRACT.md §1. Needs only Python >= 3.11, make and a C compiler.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# The suite runs on every core (pytest-xdist); a group of tests that must not overlap stays on
# one worker (tests/conftest.py GROUPS). PYTEST_ARGS="-n 0" runs it in this one process.
PYTEST_XDIST ?= -n auto --maxprocesses 8 --dist loadgroup

.PHONY: run test install install-test lock messages clean

## run: migrate, seed, start Redis + web + worker + scheduler (Ctrl-C stops them all)
run: $(VENV)/.installed
	$(BIN)/python -m app.supervisor

## test: the whole pytest suite on every core (PYTEST_ARGS="-m 'not slow'" to skip the full-stack
## tests, PYTEST_ARGS="-n 0" to run it serially)
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Fixline needs Python >= 3.11; $(PYTHON) is $$($(PYTHON) -V 2>&1). Try PYTHON=python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Exact versions with hashes from the lock (requirements*.txt, `make lock`), then Fixline itself
# without dependencies; reinstall only when the lock or pyproject.toml is newer than the stamp.
PIP := $(BIN)/python -m pip install --disable-pip-version-check
$(VENV)/.installed: pyproject.toml requirements.txt | $(BIN)/python
	$(PIP) --require-hashes -r requirements.txt
	$(PIP) --no-deps -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml requirements-test.txt | $(BIN)/python
	$(PIP) --require-hashes -r requirements-test.txt
	$(PIP) --no-deps -e .
	touch $(VENV)/.installed $@

## lock: pin every dependency of pyproject.toml's ranges to an exact version with hashes
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/lock/bin/pip-compile --quiet \
	--generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --upgrade
lock: | $(BIN)/python
	$(BIN)/python -m venv $(VENV)/lock && $(VENV)/lock/bin/python -m pip install -q pip-tools
	$(PIP_COMPILE) -o requirements.txt pyproject.toml
	$(PIP_COMPILE) --extra test -o requirements-test.txt pyproject.toml

## messages: extract the English texts into app/translations/messages.pot, merge them into each
## language's catalog (translate what is new there), compile the catalogs Fixline reads
messages: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k lazy --no-location --omit-header --sort-output \
		-o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations -w 100 \
		--ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d app/translations

## clean: remove the virtualenv and caches (instance/ with its database is kept)
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
