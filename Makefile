# `make run` and `make test` bootstrap .venv themselves (Python 3.10, pip, the locked stack).
SHELL := /bin/bash
PYTHON ?= python3.10
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
export UV_PYTHON_DOWNLOADS := never
export TF_USE_LEGACY_KERAS := 1
export PYTHONHASHSEED := 0

.PHONY: venv run test test-fast lock clean

venv: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements.lock setup.py
	$(PY) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) pip install --python $(PY) -r requirements.lock
	$(UV) pip install --python $(PY) --no-deps -e .
	touch $@

run: $(STAMP)
	$(PY) local_runner.py $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lock: $(STAMP)
	$(UV) pip compile requirements.in --python-version 3.10 -o requirements.lock

clean:
	rm -rf $(VENV) tfx_runs
