# The two commands a newcomer needs (README): `make plan STACK=main` and `make test`.
# Each sets up .venv from uv.lock first.
STACK ?= main
FROM ?= staging
TO ?= main
PY := .venv/bin/python

.PHONY: setup plan test snapshots lint promote bench bench-render charts mutate doctor preflight adopt clean fuzz

setup:
	@bash tools/setup.sh

plan: setup
	@.venv/bin/homelab plan --stack $(STACK)

# two workers (CI's cores), tests handed out one at a time (`--dist load`): each worker makes the
# session fixtures it needs (a stack's program run, its rendering) once. Grouping files with
# xdist_group (`--dist loadgroup`) does nothing under pytest 9.2: xdist 3.8 tags a test by setting
# item._nodeid, which pytest 9.2 no longer reads (its nodeid is `_id`)
# PYTHONDONTWRITEBYTECODE (set on these machines) is lifted for pytest alone: it keeps the test
# modules it rewrites for its assertions in __pycache__ only when Python may write bytecode, and
# rewriting them anew in each worker costs about 1.5 s a run
test: setup
	@PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n 2 --dist load

# the property-based tests with many random examples (Hypothesis profile `fuzz`, tests/conftest.py):
# FUZZ_EXAMPLES per property (default 300: about 3 minutes on 2 cores), stopped after FUZZ_SECONDS
# whatever happens; each failing example is printed and kept in .hypothesis/, so the next run
# replays it first: make it a named regression case, then fix it
FUZZ_EXAMPLES ?= 300
FUZZ_SECONDS ?= 1200
fuzz: setup
	@HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) timeout $(FUZZ_SECONDS) $(PY) -m pytest -q -n 2 \
		--dist load -p no:syrupy tests/plan/test_plan_properties.py tests/promote/test_promote_properties.py

# rewrite the golden snapshots (tests/components/__snapshots__/) after an intended change; review the diff
snapshots: setup
	@$(PY) -m pytest -q tests/components --snapshot-update

promote: setup
	@.venv/bin/homelab promote --from $(FROM) --to $(TO) $(if $(APPLY),--apply,)

bench: setup
	@$(PY) -m benchmarks.plan_scaling $(if $(QUICK),--quick,)

bench-render: setup
	@$(PY) -m benchmarks.render_cost

# not in CI: about an hour for everything, minutes for one module (ONLY='components.values.*')
mutate: setup
	@.venv/bin/homelab mutate $(ONLY)

# online: helm pull of every pinned chart into charts/, digests into charts.lock
charts: setup
	@.venv/bin/homelab charts

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/pyright

clean:
	rm -rf rendered .pytest_cache mutants

# read-only checks of the live cluster and Cloudflare (README "Day-2")
doctor: setup
	@.venv/bin/homelab doctor --stack $(STACK) $(if $(JSON),--json,) $(if $(PROBE),--probe,)

# read-only: what on the cluster and at Cloudflare would make the first `pulumi up` fail (README "Preflight")
preflight: setup
	@.venv/bin/homelab preflight --stack $(STACK) $(if $(JSON),--json,)

# read-only: what of the stack already runs (Flux's homelab), and the import plan for the first `pulumi up`
# (<stack>.imports.yaml; README "Adopting a running homelab")
adopt: setup
	@.venv/bin/homelab adopt --stack $(STACK) $(if $(JSON),--json,)
