# NodeTrack: make run (the demo on SQLite: web server and cluster), make test (SQLite, then PostgreSQL).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: install run test test-layers test-sqlite test-postgres lock messages clean bench

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PIP) || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.lock
	touch $(STAMP)

run: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --no-input
	DJANGO_DEBUG=1 $(PY) manage.py load_demo
	DJANGO_DEBUG=1 $(PY) manage.py setup_schedules
	DJANGO_DEBUG=1 $(PY) manage.py setup_report_schedules
	DJANGO_DEBUG=1 $(PY) manage.py demo_accounts
	@echo "NodeTrack: http://127.0.0.1:8000  (Ctrl-C stops the web server and the cluster; e-mails go to var/mail/)"
	@DJANGO_DEBUG=1 DJANGO_EMAIL_BACKEND=$${DJANGO_EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend} \
	bash -c '$(PY) manage.py qcluster & q=$$!; \
		$(PY) manage.py runserver 127.0.0.1:8000 --noreload & w=$$!; \
		trap "trap - INT; wait" INT; \
		trap "trap - INT TERM EXIT; kill -TERM $$q $$w 2>/dev/null; wait" TERM EXIT; \
		wait -n'

test: install
	$(MAKE) --no-print-directory test-layers
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

# The layering contract in pyproject.toml: imports run one way, with no exceptions.
test-layers: install
	@echo "==> import layering"
	$(VENV)/bin/lint-imports --no-cache

test-sqlite: install
	@echo "==> pytest on SQLite"
	env -u DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)

# The browser journeys run once, in the SQLite pass; the PostgreSQL pass runs the rest.
test-postgres: install
	@echo "==> pytest on PostgreSQL (throwaway server)"
	bash tests/with_postgres.sh $(PY) -m pytest -m "not browser" $(PYTEST_ARGS)

# Province scale: each size in BENCH_SIZES on its own throwaway PostgreSQL database, the app
# against hand-written SQL doing the same work; writes bench-results.json.
BENCH_SIZES ?= 10000 100000
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PIP) install --quiet $$($(PY) -c 'import tomllib; print(" ".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bench"]))')
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	BENCH_SIZES="$(BENCH_SIZES)" NODETRACK_REQUIRE_POSTGRES=1 bash tests/with_postgres.sh $(PY) -m tests.bench

lock:
	rm -rf /tmp/nodetrack-lock && $(PYTHON) -m venv /tmp/nodetrack-lock
	/tmp/nodetrack-lock/bin/pip install --quiet --upgrade pip
	/tmp/nodetrack-lock/bin/pip install --quiet ".[test]"
	(echo "# Exact versions for a reproducible install: pip install -r requirements.lock"; \
	 echo "# Regenerate: make lock"; \
	 /tmp/nodetrack-lock/bin/pip freeze --exclude nodetrack) > requirements.lock

messages: install
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=tests --ignore=var --ignore=staticfiles --ignore=build --ignore=test-artifacts
	$(PY) manage.py compilemessages --ignore=.venv --ignore=build --ignore=test-artifacts

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
