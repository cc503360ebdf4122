# Renown: every developer and CI command. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
UV_VERSION := 0.13.8
UV := $(VENV)/bin/uv
RUN := $(VENV)/bin/
STAMP := $(VENV)/.installed-$(shell cat uv.lock pyproject.toml | cksum | cut -d' ' -f1)
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_NO_PROGRESS := 1

.PHONY: install run test check lint typecheck template doctest unit pr bench layer clean browser-deps

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q "uv==$(UV_VERSION)"

$(STAMP): $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --inexact --compile-bytecode
	rm -f $(VENV)/.installed-*
	touch $@

# bytecode of the project's own modules and numba's cache of the scoring kernels: the first
# `renown score` loads them instead of compiling (checked by `make bench`, "first run" rows)
WARM := core/__pycache__/.warm-$(shell cat core/*.py renown/*.py | cksum | cut -d' ' -f1)

$(WARM): $(STAMP) $(wildcard core/*.py renown/*.py)
	$(RUN)python -m compileall -q core functions renown
	$(RUN)renown warm
	mkdir -p core/__pycache__
	rm -f core/__pycache__/.warm-*
	touch $@

install: $(STAMP) $(WARM) ## create .venv, install the locked dependencies, fill numba's cache

run: install ## run the whole service locally on moto (http://127.0.0.1:$${PORT:-8000})
	$(RUN)renown serve

lint: install
	$(RUN)ruff check core functions renown tests layers
	$(RUN)ruff format --check core functions renown tests layers
	$(RUN)lint-imports

typecheck: install
	$(RUN)mypy

template: install ## expand the SAM template offline, cfn-lint it, sam validate --lint
	$(RUN)python -m renown.template_check template.yaml

unit: install
	# two workers: the machine CI runs on has two cores; the slowest tests are listed at the end
	# (loadgroup: the deploy tests share one worker and its layer builds, tests/deploy/conftest.py)
	$(RUN)pytest -n 2 --dist loadgroup --durations=12 --ignore=tests/stack
	# the stack tests run handlers in-process as Lambda would: a fresh process, like a fresh container;
	# each worker starts its own local stack (moto server, pollers, handlers)
	$(RUN)pytest -n 2 --durations=8 tests/stack

doctest: install ## the examples in the docstrings of core and functions/shared
	$(RUN)pytest --doctest-modules core functions/shared

browser-deps: ## Debian's chromium for the widget browser test (skipped with a reason when absent)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
		echo "chromium not installed: the browser test will be skipped"; }

test: install browser-deps lint typecheck template doctest unit ## everything CI runs

pr: test ## what CI runs, before you open a pull request

bench: install ## renown score end to end (1M/20M, 4M/80M; text, Parquet) and the solver against scipy, graphblas
	$(RUN)renown bench --sizes 1m,4m --solvers renown,scipy,graphblas --repeat 2

.PHONY: evaluate
evaluate: install ## attacks and properties of the score per version; writes docs/evaluation.md (VERSIONS="v1 v2")
	$(RUN)renown evaluate $(foreach v,$(or $(VERSIONS),v1 v2),--version $(v)) --write-docs

layer: install ## build the scoring layer into layers/build
	$(MAKE) -f layers/Makefile build ARTIFACTS_DIR=$(CURDIR)/layers/build

clean:
	rm -rf $(VENV) .aws-sam layers/build .pytest_cache .mypy_cache .ruff_cache
