# Two commands for a newcomer: `make demo` and `make test`. Both set everything up first:
# ffmpeg (from apt-get when missing) and the Python packages in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench ffmpeg clean readme

setup: ffmpeg $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

ffmpeg:
	@sh scripts/ensure-ffmpeg.sh

demo: setup
	@sh scripts/demo.sh

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/run.py

readme: setup
	$(BIN)/python scripts/gen_reference.py

clean:
	rm -rf $(VENV) demo-home build *.egg-info
