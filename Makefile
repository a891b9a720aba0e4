# Two commands do all the set-up: `make site` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: site serve test validate bench clean

site: $(STAMP) graphviz  ## Build the example site from cards/ into site/
	$(BIN)/modelcards build
	@echo "View it: $(BIN)/python -m http.server -d site 8000, then open http://127.0.0.1:8000/"

serve: $(STAMP)  ## Serve the example site with live reload
	$(BIN)/modelcards serve

test: $(STAMP) graphviz chromium  ## Run the whole test suite, browser tests included
	$(BIN)/python -m pytest

validate: $(STAMP)
	$(BIN)/modelcards validate

bench: $(STAMP) graphviz chromium  ## Benchmarks: build vs plain mkdocs, run reading, SHAP, lineage diagrams
	$(BIN)/python benchmarks/build_speed.py
	$(BIN)/python benchmarks/run_read_speed.py
	$(BIN)/python benchmarks/explain_speed.py
	$(BIN)/python benchmarks/lineage_speed.py

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

.PHONY: graphviz chromium
graphviz:
	@scripts/ensure-debian-packages.sh dot:graphviz

chromium:
	@scripts/ensure-debian-packages.sh chromium:chromium

clean:
	rm -rf $(VENV) site .modelcards-cache
