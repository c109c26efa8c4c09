# Two commands for a new user: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The tests, the browser tests and the charts; `make run` needs neither this file nor its stamp.
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: install run test test-postgres ci bench simulate migrate clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# Depends on the server's stamp too, so a change to either file reinstalls.
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

install: $(DEV_STAMP)

run: $(STAMP)
	$(PY) scripts/run.py

test: $(DEV_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The suite against the local PostgreSQL (CI runs this too).
test-postgres: $(DEV_STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(PY) -m pytest $(PYTEST_ARGS)

bench: $(DEV_STAMP)
	$(PY) bench/run.py $(if $(QUICK),--quick,)

simulate: $(DEV_STAMP)
	$(PY) manage.py simulate

clean:
	rm -rf $(VENV) db.sqlite3* test_db.sqlite3* staticfiles media
