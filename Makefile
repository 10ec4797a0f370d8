# The template's two commands:
#   make demo   generate a project with the defaults and serve it at http://127.0.0.1:8000
#   make test   the whole test suite (bakes projects and runs their own tests)
#   make bench  the benchmark: generated apps vs the Channels tutorial consumer (ARGS=--tiny)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := .demo
DEMO_SLUG := realtime_django

.PHONY: demo test bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt
	touch $@

demo: $(VENV)/.installed
	rm -rf $(DEMO_DIR)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	$(MAKE) -C $(DEMO_DIR)/$(DEMO_SLUG) demo

test: $(VENV)/.installed
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .bench
