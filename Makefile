# The template's commands:
#   make demo   generate a project with the defaults into .demo/realtime_django and serve it
#               at http://127.0.0.1:8000 (make demo PORT=8001 for another port)
#   make test   the whole test suite (bakes projects and runs their own tests)
#   make bench  the benchmark: generated apps vs the Channels tutorial consumer (ARGS=--tiny)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := .demo
DEMO_SLUG := realtime_django
PORT ?= 8000
# make test runs its bakes in this many processes: each waits on subprocesses (daphne,
# Chromium, Redis, Postgres) much of the time, so two share two cores well.
TEST_JOBS ?= 2

.PHONY: demo demo-port test bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt
	touch $@

# Before anything is installed or generated: a busy port fails at once, in one line.
demo-port:
	@$(PYTHON) -c 'import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", $(PORT)))' 2>/dev/null \
	  || { echo "Port $(PORT) is in use: stop what runs there, or pick another port: make demo PORT=8001" >&2; exit 1; }

demo: demo-port $(VENV)/.installed
	rm -rf $(DEMO_DIR)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	$(MAKE) -C $(DEMO_DIR)/$(DEMO_SLUG) demo PORT=$(PORT)

test: $(VENV)/.installed
	$(BIN)/python -m pytest tests -n $(TEST_JOBS) --dist worksteal --durations=30 $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .bench
