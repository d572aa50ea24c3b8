# The two set-up commands are `make demo` and `make test`; both create .venv when it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PACKAGES := core plugins api console reports ops schoolgate connectors mapping sync store fixtures bench

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

# Debian's Chromium drives the report screenshots (Playwright's own browser download is not used);
# WeasyPrint (the printed journal's PDF) needs Pango
CHROMIUM ?= /usr/bin/chromium
chromium:
	@{ test -x $(CHROMIUM) && /sbin/ldconfig -p | grep -q libpangoft2-1.0; } || { \
	  echo "installing chromium and pango (Debian) for the report screenshots and PDFs"; \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends \
	    chromium libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; }

# worksteal: an idle worker takes tests queued on the busy one, so the few long tests (Redis
# workers, screenshots, the fault suite) do not leave one worker finishing alone
test: lint chromium
	$(BIN)/pytest -q -n 2 --dist worksteal

test-fast: $(STAMP)
	$(BIN)/pytest -q -x -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m bench

soak: $(STAMP)
	$(BIN)/pytest -q -m soak --run-soak

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
