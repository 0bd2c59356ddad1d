# make run   — fresh machine → venv, install, migrate, start (sandbox mode when no token is set)
# make test  — fresh machine → venv, install, lint, type-check, the whole test suite

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
            command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            && echo $$p && break; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint typecheck pytest bench report-preview dashboard-shots clean

run: install
	$(BIN)/loa db upgrade
	exec $(BIN)/loa run

test: install lint typecheck pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "loa needs Python 3.11 or newer on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q

bench: install
	$(BIN)/loa bench broadcast --chats 10000 --no-limit --json
	$(BIN)/loa bench broadcast --chats 3000 --rate 300 --json
	$(BIN)/loa bench inbound --updates 5000 --rate 1000 --json

# A demo quarter (the report benchmark's data and plan: 5 schools, their activities and models)
# filed as DOCX and drawn to report-preview/page-1.png (every page: report.pdf) to look at;
# needs soffice (libreoffice-writer) and pdftoppm (poppler-utils), installs neither.
PREVIEW := report-preview
report-preview: install
	@command -v soffice >/dev/null && command -v pdftoppm >/dev/null \
	  || { echo "report-preview needs soffice (libreoffice-writer) and pdftoppm (poppler-utils)"; exit 1; }
	rm -rf $(PREVIEW) && mkdir -p $(PREVIEW)
	$(BIN)/loa bench report --events 20000 --db sqlite+aiosqlite:///$(PREVIEW)/demo.db \
	  --docx $(PREVIEW)/report.docx --json >/dev/null
	soffice --headless --convert-to pdf --outdir $(PREVIEW) $(PREVIEW)/report.docx >/dev/null
	pdftoppm -png -r 80 -f 1 -l 1 -singlefile $(PREVIEW)/report.pdf $(PREVIEW)/page-1
	@echo "$(PREVIEW)/page-1.png"

# The dashboard's pages at desktop width and at 400 px, as PNGs in dashboard-shots/ to look at:
# the browser test's scenario (tests/web/admin/test_browser.py) in Debian's chromium.
SHOTS := dashboard-shots
dashboard-shots: install
	rm -rf $(SHOTS)
	LOA_SHOTS_DIR=$(CURDIR)/$(SHOTS) $(BIN)/pytest -q -p no:randomly tests/web/admin/test_browser.py
	@ls $(SHOTS)/*.png

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
