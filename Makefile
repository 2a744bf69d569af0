# `make run` and `make test` bootstrap .venv themselves (Python 3.10, pip, the locked stack).
SHELL := /bin/bash
PYTHON ?= python3.10
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
export UV_PYTHON_DOWNLOADS := never
export PYTHONHASHSEED := 0

.PHONY: venv run test test-fast lint bench lock clean browser

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

# Test files run in TEST_WORKERS processes (pytest-xdist), each file whole in one process so its
# module fixtures (pipeline runs) run once; 2 matches the CI machine's cores.
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadfile

test: $(STAMP) browser
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# Benchmarks (not part of pytest): table, benchmarks/results/latest.json and latest.png.
bench: $(STAMP)
	$(PY) -m benchmarks.run $(ARGS)

# ruff (configuration in pyproject.toml): lint rules and the formatter's check; CI runs it.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS)

# Debian's Chromium and ChromeDriver for the run report's browser test (tests/e2e/test_report_component.py);
# without root or apt-get that one test is skipped and says why.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium and chromium-driver (apt-get)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	    || echo "twinnorm: apt-get could not install chromium; the report's browser test will be skipped"; \
	else echo "twinnorm: chromium not installed and no root apt-get; the report's browser test will be skipped"; fi

lock: $(STAMP)
	$(UV) pip compile requirements.in --python-version 3.10 -o requirements.lock

clean:
	rm -rf $(VENV) tfx_runs
