# Two commands do all the set-up: `make site` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package, transitive ones included, pinned at the version the suite passes with; `make lock` refreshes it.
LOCK := constraints.txt
# What installing the package needs beyond its dependencies; pinned in the lock like them. The package is
# built with these (no isolated build environment), so nothing unpinned is fetched to build it. wheel: one
# dependency (antlr4-python3-runtime, through dvc's hydra) is published only as source, and the venv's
# setuptools 65 can make a wheel of it only with the wheel package present.
BUILD_TOOLS := pip hatchling editables wheel
# axe-core, the accessibility checker tests/test_site_quality.py runs in each page; pinned by its package-lock.json.
AXE_DIR := tests/js
AXE_STAMP := $(AXE_DIR)/node_modules/.installed
# mkdocs-techdocs-core pins older Material, pymdown-extensions and Markdown: it gets a venv of its own (see below).
TECHDOCS_VENV ?= .venv-techdocs
TECHDOCS_CORE := mkdocs-techdocs-core==1.7.1
TECHDOCS_LOCK := tests/techdocs-constraints.txt
TECHDOCS_STAMP := $(TECHDOCS_VENV)/.installed

.PHONY: site serve test validate bench lock clean

site: $(STAMP) graphviz  ## Build the example site from cards/ into site/
	$(BIN)/modelcards build
	@echo "View it: $(BIN)/python -m http.server -d site 8000, then open http://127.0.0.1:8000/"

serve: $(STAMP)  ## Serve the example site with live reload
	$(BIN)/modelcards serve

test: $(STAMP) $(AXE_STAMP) $(TECHDOCS_STAMP) graphviz chromium poppler  ## Run the whole test suite, browser tests included
	MODELCARDS_TECHDOCS_PYTHON=$(abspath $(TECHDOCS_VENV))/bin/python $(BIN)/python -m pytest

validate: $(STAMP)
	$(BIN)/modelcards validate

bench: $(STAMP) graphviz chromium  ## Benchmarks: build vs plain mkdocs and the audit trail from git, run reading, SHAP, lineage diagrams, monitoring points
	$(BIN)/python benchmarks/build_speed.py
	$(BIN)/python benchmarks/run_read_speed.py
	$(BIN)/python benchmarks/explain_speed.py
	$(BIN)/python benchmarks/lineage_speed.py
	$(BIN)/python benchmarks/monitoring_speed.py

# npm ci installs exactly what the lock names, so a fresh clone (no node_modules) gets the tested axe-core.
$(AXE_STAMP): $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	@scripts/ensure-debian-packages.sh npm:npm
	npm ci --prefix $(AXE_DIR) --no-audit --no-fund --silent
	touch $@

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(LOCK) $(BUILD_TOOLS)
	@# Before 0.1.0 was published the distribution was called modelcards: a venv made then has it too.
	@if $(BIN)/python -m pip show --quiet modelcards >/dev/null 2>&1; then \
	  $(BIN)/python -m pip uninstall --quiet --yes modelcards; fi
	$(BIN)/python -m pip install --quiet -c $(LOCK) --no-build-isolation -e ".[test]"
	touch $@

# A fresh resolve of pyproject.toml's dependencies in a scratch venv, frozen into $(LOCK). Run it to take
# newer releases or after changing the dependencies, then `make test` (the venv follows the new pins).
LOCK_VENV := $(VENV)-lock
lock:  ## Re-resolve every dependency and pin the result in constraints.txt
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade $(BUILD_TOOLS)
	$(LOCK_VENV)/bin/python -m pip install --quiet --no-build-isolation -e ".[test]"
	{ echo "# Every package \`make\` installs, at the version the test suite passes with (transitive ones included)."; \
	  echo "# The Makefile installs with \`pip install -c constraints.txt\`, so the tested versions are the installed ones."; \
	  echo "# Refresh it with \`make lock\`: a fresh resolve of pyproject.toml's dependencies in a scratch venv, frozen here."; \
	  echo "# Resolved with Python $$($(LOCK_VENV)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all --exclude-editable; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf $(LOCK_VENV)

.PHONY: graphviz chromium poppler
graphviz:
	@scripts/ensure-debian-packages.sh dot:graphviz

chromium:
	@scripts/ensure-debian-packages.sh chromium:chromium

# pdftotext, with which tests/test_pdf.py reads back what `modelcards pdf` printed.
poppler:
	@scripts/ensure-debian-packages.sh pdftotext:poppler-utils

clean:
	rm -rf $(VENV) $(LOCK_VENV) $(TECHDOCS_VENV) site .modelcards-cache $(AXE_DIR)/node_modules

# --- Backstage TechDocs -----------------------------------------------------------------------------------------
# mkdocs-techdocs-core 1.7 pins mkdocs-material, pymdown-extensions and Markdown below this project's constraints,
# so it gets a venv of its own that sees the project's venv behind its pins (docs/reference/techdocs.md).

.PHONY: techdocs-env test-techdocs
techdocs-env: $(TECHDOCS_STAMP)  ## A venv with techdocs-core for tests/test_techdocs.py
$(TECHDOCS_STAMP): $(STAMP) $(TECHDOCS_LOCK)
	$(BIN)/python -m venv $(TECHDOCS_VENV)
	@# addsitedir, not a bare path: it also runs the project venv's own .pth files, which make the editable
	@# modelcards importable.
	$(BIN)/python -c "import sysconfig; print('import site; site.addsitedir(%r)' % sysconfig.get_paths()['purelib'])" > \
	  "$$($(TECHDOCS_VENV)/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/zz-project-venv.pth"
	$(TECHDOCS_VENV)/bin/python -m pip install --quiet -c $(TECHDOCS_LOCK) $(TECHDOCS_CORE)
	touch $@

test-techdocs: techdocs-env graphviz  ## Build the example with techdocs-core in the plugin list
	MODELCARDS_TECHDOCS_PYTHON=$(abspath $(TECHDOCS_VENV))/bin/python $(BIN)/python -m pytest tests/test_techdocs.py
