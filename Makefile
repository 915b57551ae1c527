# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= $(or $(SERVICE_DB),data/service.duckdb)
PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install browser lint demo bench

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# The demo database is written once; delete the file (or `make demo`) to start again.
$(DB): | $(VENV)/.installed
	$(PY) -m indicators demo --db $(DB)

demo: install
	rm -f $(DB) $(DB).wal
	$(PY) -m indicators demo --db $(DB)

run: install $(DB)
	SERVICE_DB=$(DB) $(PY) -m streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

# Browser tests drive Debian's chromium; nothing downloads a browser of its own.
browser:
	@test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

# Performance at 1 and 10 million purchases (about 5 minutes once the files are written; see the README's Performance section).
bench: install
	$(PY) -m bench.run --n 1000000 --n 10000000

lint: install
	$(PY) -m ruff check .

test: install browser
	$(PY) -m ruff check .
	$(PY) -m pytest
