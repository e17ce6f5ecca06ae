# The two quick-start commands: `make demo` and `make test`. Each creates .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lab bench clean-demo

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# Start the embedded PostgreSQL, seed the reference legacy database, run the job.
demo: $(STAMP)
	$(BIN)/runbook demo

# The test suite, then every notebook under nbval on its own demo server (stopped after).
test: $(STAMP)
	$(BIN)/python -m pytest -q tests && { DATABASE_URL= RUNBOOK_DEMO_DIR=$(CURDIR)/.runbook/nbval $(BIN)/python -m pytest -q --nbval-lax notebooks/; s=$$?; $(BIN)/runbook demo-db --stop --dir $(CURDIR)/.runbook/nbval >/dev/null; exit $$s; }

lab: $(STAMP)
	$(BIN)/runbook demo-db >/dev/null
	$(BIN)/jupyter lab notebooks/01-analysis.ipynb

bench: $(STAMP)
	$(BIN)/python bench/migrate.py --messages 10000 100000 1000000

clean-demo:
	rm -rf .runbook outputs
