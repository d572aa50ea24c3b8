# The two set-up commands are `make demo` and `make test`; both create .venv when it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PACKAGES := core plugins api console reports schoolgate connectors mapping sync store fixtures bench

.PHONY: venv demo test test-fast lint typecheck bench soak clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/schoolgate --log-format console --log-level error demo

lint: $(STAMP)
	$(BIN)/ruff check $(PACKAGES) tests
	$(BIN)/ruff format --check $(PACKAGES) tests
	$(BIN)/mypy $(PACKAGES)

typecheck: lint

# the console's browser tests drive Debian's Chromium (Playwright pointed at /usr/bin/chromium)
chromium:
	test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)

test: lint chromium
	$(BIN)/pytest -q -n 2

test-fast: $(STAMP)
	$(BIN)/pytest -q -x -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m bench

soak: $(STAMP)
	$(BIN)/pytest -q -m soak --run-soak

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
