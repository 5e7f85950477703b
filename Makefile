# The two commands of the README: `make run` (local stack + every service, events flowing) and `make test`.
# Both start from nothing: scripts/bootstrap.sh installs OS packages, the virtualenv and the Kafka jars.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

.PHONY: bootstrap lockcheck run test lint typecheck unit integration bench schemas clean

bootstrap:
	@bash scripts/bootstrap.sh

run: bootstrap
	$(BIN)/regpipe-demo

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: bootstrap
	$(BIN)/mypy libs services tests benchmarks examples

test: lockcheck lint typecheck
	$(BIN)/python -m regpipe.contract.schemas check
	$(BIN)/python -m regpipe.kafka.asyncapi check
	$(BIN)/pytest -q

# The lock must match pyproject.toml (someone added a dependency without re-locking otherwise).
lockcheck: bootstrap
	@$(BIN)/uv lock --check --quiet || { echo "uv.lock does not match pyproject.toml: run '$(BIN)/uv lock' and commit uv.lock" >&2; exit 1; }

unit: bootstrap
	$(BIN)/pytest -q -m "not integration"

integration: bootstrap
	$(BIN)/pytest -q -m integration

bench: bootstrap
	$(BIN)/python -m benchmarks.webhook_receiver
	$(BIN)/python -m benchmarks.normalizer

schemas: bootstrap
	$(BIN)/python -m regpipe.contract.schemas generate
	$(BIN)/python -m regpipe.kafka.asyncapi generate

clean:
	rm -rf .stack .pytest_cache .mypy_cache .ruff_cache
