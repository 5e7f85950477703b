# The two commands of the README: `make run` (local stack + every service, events flowing) and `make test`.
# Both start from nothing: scripts/bootstrap.sh installs OS packages, the virtualenv and the Kafka jars.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

.PHONY: bootstrap lockcheck run test test-stress lint typecheck unit integration bench schemas clean

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
	$(BIN)/python -m regpipe.kafka.access check
	$(BIN)/kubernetes-validate --quiet --strict -k 1.33.0 deploy/k8s/*.yaml
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(BIN)/pytest -q --durations=15

# The suite must not depend on timing: the whole test command, three times in a row, with a CPU hog on both cores
# beside it. stress-ng is stopped at the end however the runs end (a failure, Ctrl+C).
STRESS_RUNS := 3
test-stress: bootstrap
	@command -v stress-ng >/dev/null || { echo "test-stress: stress-ng is not installed (scripts/bootstrap.sh installs it)" >&2; exit 1; }
	@stress-ng --cpu 2 --quiet & hog=$$!; \
	trap 'kill $$hog 2>/dev/null; wait $$hog 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	for run in $$(seq 1 $(STRESS_RUNS)); do \
		echo "test-stress: run $$run of $(STRESS_RUNS), stress-ng --cpu 2 beside it"; \
		$(MAKE) --no-print-directory test || exit 1; \
	done; \
	echo "test-stress: $(STRESS_RUNS) runs passed under load"

# The lock must match pyproject.toml (someone added a dependency without re-locking otherwise).
lockcheck: bootstrap
	@$(BIN)/uv lock --check --quiet || { echo "uv.lock does not match pyproject.toml: run '$(BIN)/uv lock' and commit uv.lock" >&2; exit 1; }

unit: bootstrap
	$(BIN)/pytest -q -m "not integration"

integration: bootstrap
	$(BIN)/pytest -q -m integration

# Every benchmark under benchmarks/ (each writes benchmarks/results/<name>.json), then docs/benchmarks.md from the
# results (`python -m benchmarks.report` alone re-writes it without measuring). A benchmark that could not run does
# not stop the others; make fails at the end naming it. A missed target is a figure, not a failure.
BENCHMARKS := webhook_receiver normalizer deduplicator aggregator delivery console http_client passthrough_c end_to_end
bench: bootstrap
	@failed=""; \
	for name in $(BENCHMARKS); do \
		[ -f benchmarks/$$name/__main__.py ] || continue; \
		echo "bench: $$name (load $$(cut -d' ' -f1 /proc/loadavg))"; \
		$(BIN)/python -m benchmarks.$$name || failed="$$failed $$name"; \
	done; \
	$(BIN)/python -m benchmarks.report; \
	if [ -n "$$failed" ]; then echo "bench: could not run:$$failed" >&2; exit 1; fi

schemas: bootstrap
	$(BIN)/python -m regpipe.contract.schemas generate
	$(BIN)/python -m regpipe.kafka.asyncapi generate

clean:
	rm -rf .stack .pytest_cache .mypy_cache .ruff_cache
