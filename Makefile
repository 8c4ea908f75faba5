# Two commands set everything up: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test check bench install install-test browser postgres ui clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# The dashboard tests drive Debian's Chromium, with a CJK font so Chinese pages show glyphs, not boxes
# (fonts-noto-cjk gives 'Noto Sans CJK SC', named in the pages' font stack); never a browser downloaded at run time.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 \
			|| ! fc-list :lang=zh family 2>/dev/null | grep -qi 'Noto Sans CJK'; then \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); LOG=$$(mktemp); \
		{ $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
			chromium chromium-driver fonts-noto-cjk; } >"$$LOG" 2>&1 || { cat "$$LOG"; rm -f "$$LOG"; exit 1; }; \
		rm -f "$$LOG"; \
	fi

# The campaign-store tests start throwaway clusters of Debian's Postgres server; never a mock.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

demo: install
	$(BIN)/fingrowth demo

test: install-test browser postgres
	$(BIN)/pytest -q -n 2

# Lint and load both code locations the way `dagster dev` does (catches definition errors in seconds).
check: install-test
	$(BIN)/ruff check
	$(BIN)/dagster definitions validate -w workspace.yaml

# The scale benchmark (never part of the tests): BENCH_ARGS="--users 100000 --events 5000000" for 10%.
# Then the CSV size against a pandas + lifetimes script (lifetimes is a test extra): CSV_BENCH_ARGS="--repeat 3".
bench: install-test
	$(BIN)/python bench/scale.py $(BENCH_ARGS)
	$(BIN)/python bench/csv_scale.py $(CSV_BENCH_ARGS)

# Both code locations (workspace.yaml): the analytics graph and the daily-partitioned staging.
ui: install
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf data out .dagster .tmp_dagster_home_* .pytest_cache
