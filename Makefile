# Two commands for a newcomer: `make demo` and `make test`. Both set everything up first:
# ffmpeg and chromium (from apt-get when missing) and the Python packages in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test coverage bench system clean readme

setup: system $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

system:
	@sh scripts/ensure-system.sh

demo: setup
	@sh scripts/demo.sh

test: setup
	$(BIN)/python -m pytest

# The suite under coverage, the ohrt processes it starts included; prints the report (and htmlcov/).
coverage: setup
	rm -f .coverage .coverage.*
	$(BIN)/python -m pytest --cov --cov-report=term --cov-report=html

bench: setup
	$(BIN)/python bench/run.py

readme: setup
	$(BIN)/python scripts/gen_reference.py

clean:
	rm -rf $(VENV) demo-home build *.egg-info .coverage .coverage.* htmlcov
