# LoopCRM: `make run` starts everything on the embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
export LOOPCRM_VAR_DIR ?= $(CURDIR)/var

.PHONY: run test test-fast bench load lint check-deploy clean setup setup-dev

# Production needs requirements.txt only; tests, lint, benchmarks and the load test add requirements-dev.txt.
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

setup: $(STAMP)
setup-dev: $(DEV_STAMP)

# Web server + Celery worker (with beat) on a broker folder: no server needed.
run: $(STAMP)
	@mkdir -p $(LOOPCRM_VAR_DIR)/broker/processed $(LOOPCRM_VAR_DIR)/broker/control
	$(PY) manage.py migrate --noinput
	@test -f $(LOOPCRM_VAR_DIR)/.seeded || ($(PY) manage.py seed_demo && touch $(LOOPCRM_VAR_DIR)/.seeded)
	@$(PY) manage.py demo_logins --url http://$(HOST):$(PORT)/
	@# On Ctrl-C, TERM, or the web server exiting: stop the worker (and its beat) and wait for it — at
	@# most 7 s, then kill it (it sometimes hangs after "beat: Shutting down"; a job it was running is
	@# marked stale and re-run by the housekeeping jobs). The trap ignores further signals and names the
	@# worker by its pid (`kill 0` signalled this shell too and re-ran the trap over and over).
	@trap 'trap "" INT TERM; trap - EXIT; kill -TERM $$worker 2>/dev/null; \
	  for _ in 1 2 3 4 5 6 7; do kill -0 $$worker 2>/dev/null || break; sleep 1; done; \
	  kill -KILL $$worker 2>/dev/null; wait' INT TERM EXIT; \
	  $(VENV)/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2 \
	    --schedule=$(LOOPCRM_VAR_DIR)/celerybeat-schedule & worker=$$!; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

test: $(DEV_STAMP)
	$(PY) -m pytest

test-fast: $(DEV_STAMP)
	$(PY) -m pytest -m "not browser and not worker"

# Benchmarks: `make bench` (reference sizes) or `make bench SIZE=small`.
SIZE ?= full
bench: $(DEV_STAMP)
	$(PY) bench/run.py --size $(SIZE)

# Load test against gunicorn + PostgreSQL + Redis + a worker: `make load` or `make load SIZE=small`.
load: $(DEV_STAMP)
	$(PY) bench/load/run_load.py --size $(SIZE)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

check-deploy: $(STAMP)
	DEBUG=0 SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') ALLOWED_HOSTS=crm.example.com \
	  $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var .pytest_cache
