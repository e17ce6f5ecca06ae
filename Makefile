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

# JupyterLab on the embedded demo database, which 01-analysis expects with its tables under
# their old names (not migrated, or rolled back). A demo database that is migrated (`make
# demo` leaves it so), half-migrated or interrupted is not reseeded behind your back (it may
# be what you are inspecting): its `runbook status` is printed with the ways back, and the
# lab is not opened; `make lab RESEED=1` reseeds it first. jupyter refuses to run as root
# without --allow-root: given when the user is root.
lab: $(STAMP)
	@url=$$($(BIN)/runbook demo-db --json $(if $(RESEED),--reseed) | $(BIN)/python -c 'import json, sys; print(json.load(sys.stdin)["url"])') || exit 2; \
	DATABASE_URL="$$url" $(BIN)/runbook status --expect 'not migrated' --expect 'rolled back'; rc=$$?; \
	if [ $$rc = 1 ]; then \
	  echo; echo "make lab: the demo database is not fresh: 01-analysis would have nothing to plan. Either"; \
	  echo "  make lab RESEED=1    reseed it (runbook demo-db --reseed) and open the lab, or undo the migration:"; \
	  echo '  eval "$$($(BIN)/runbook demo-db | grep ^export)"; $(BIN)/runbook rollback'; \
	  exit 1; \
	fi; \
	[ $$rc = 0 ] || exit $$rc; \
	DATABASE_URL="$$url" $(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/01-analysis.ipynb

# The lock window beside its limit (every corpus schema, the reference database at each N),
# then runbook migrate beside the procedure a user would type. Each prints its ratios.
bench: $(STAMP)
	$(BIN)/python bench/lock.py --messages 10000 100000 1000000; s=$$?; \
	$(BIN)/python bench/migrate.py --messages 10000 100000 1000000 || s=$$?; exit $$s

clean-demo:
	rm -rf .runbook outputs
