# PURAIFY control plane. `make run` serves the API on 127.0.0.1:3000; `make test` is what CI runs.
PYTHON_VERSION ?= 3.12.1
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-ts client-ts-types test-dynamodb-local test-localstack localstack reset lint build bench deploy clean install console screenshots fuzz invoke

$(STAMP): requirements-dev.txt layers/core/requirements.txt
	@echo "installing the Python packages of requirements-dev.txt into $(VENV) (first run, or after a change to it)"
	@test -x $(PY) || PYENV_VERSION=$(PYTHON_VERSION) python3.12 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@# not quiet: pip names each package it collects, the progress of the longest step of a first run
	$(PY) -m pip install --progress-bar off -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

# The operator console (console/): npm ci from the committed lock, then esbuild into the
# ConsoleFunction's folder (functions/console/static, not committed). Rebuilt when a source changes.
CONSOLE_BUILT := functions/console/static/index.html
console/node_modules/.package-lock.json: console/package-lock.json
	@echo "installing the console's npm packages into console/node_modules (npm ci, first run only)"
	cd console && npm ci --no-audit --no-fund --loglevel=error
$(CONSOLE_BUILT): console/node_modules/.package-lock.json console/build.mjs $(shell find console/src -type f 2>/dev/null)
	@echo "building the operator console into functions/console/static"
	cd console && node build.mjs
console: $(CONSOLE_BUILT)

# The pictures in docs/console.md, taken by the browser tests (Debian's chromium).
screenshots: $(STAMP) $(CONSOLE_BUILT)
	PURAIFY_SCREENSHOTS=$(CURDIR)/docs/console $(PY) -m pytest tests/browser -q

run: $(STAMP) $(CONSOLE_BUILT)
	$(PY) -m local.runner

# One handler on one event, like `sam local invoke` (see local/invoke.py and the README).
invoke: $(STAMP)
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=CheckFunction EVENT=events/check/check.json"; exit 2; }
	@$(PY) -m local.invoke "$(FUNCTION)" "$(EVENT)"

test: $(STAMP) lint $(CONSOLE_BUILT)
	cd console && npm test
	@# both cores (pytest-xdist); a test file's tests stay on one worker, so its module fixtures are built once
	$(PY) -m pytest -n 2 --dist loadfile

# DynamoDB on DynamoDB Local (bound to 127.0.0.1), the rest on moto: installs it into .emulators/ on first use.
test-dynamodb-local: $(STAMP) $(CONSOLE_BUILT)
	$(PY) -m local.suite dynamodb-local -n 2 --dist loadfile

# Every service on LocalStack 4.14.0 (installed into .emulators/ on first use), inside its own network
# namespace: its DynamoDB child listens on every interface. Nothing is fetched inside the namespace.
# LocalStack's DynamoDB is DynamoDB Local behind LocalStack's gateway, and test-dynamodb-local runs every test that
# reaches AWS on DynamoDB Local already. So this suite runs what LocalStack adds: every store adapter against its
# wire protocols (tests/contract), the whole stack over HTTP (tests/e2e), and the services that use S3, SNS, SSM and
# Secrets Manager (policy bundles; alert channels and route secrets). `make test-localstack LOCALSTACK_TESTS=tests`
# runs every test that reaches AWS (about 25 minutes on 2 cores, against about 5 for these).
LOCALSTACK_TESTS ?= tests/contract tests/e2e tests/integration/monitoring tests/integration/planning
test-localstack: $(STAMP) $(CONSOLE_BUILT)
	$(PY) -m local.suite install localstack
	unshare -n sh -c 'ip link set lo up && exec $(PY) -m local.suite localstack -n 2 --dist loadfile $(LOCALSTACK_TESTS)'

# A LocalStack for `make run` on 127.0.0.1:4566 (LOCALSTACK_PORT): `AWS_ENDPOINT_URL=http://127.0.0.1:4566 make run`.
# Its DynamoDB is bound to 127.0.0.1 by the agent local/localstack.py gives it. Keeps nothing (Community has no persistence).
localstack: $(STAMP)
	$(PY) -m local.localstack

# Forget the state of `make run` (stop it first): the next start is empty and prints a new admin key.
reset:
	rm -rf "$${PURAIFY_STATE_DIR:-.puraify/state}"

# checkov (template security) lives in its own venv: it pins boto3 and others unlike .venv does.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || PYENV_VERSION=$(PYTHON_VERSION) python3.12 -m venv $(CHECKOV_VENV) || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-checkov.txt
	@touch $(CHECKOV_STAMP)

# The TypeScript SDK's tools (openapi-typescript, Spectral, tsc): npm ci from client-ts's committed lock.
CLIENT_TS_MODULES := client-ts/node_modules/.package-lock.json
$(CLIENT_TS_MODULES): client-ts/package-lock.json
	cd client-ts && npm ci --no-audit --no-fund --loglevel=error

# The TypeScript SDK (client-ts/): compiled, then its tests against a fresh local control plane (local/around.py).
test-ts: $(STAMP) $(CLIENT_TS_MODULES)
	cd client-ts && npx tsc -p tsconfig.json
	$(PY) -m local.around sh -c 'cd client-ts && node --test test/'

# client-ts/src/schema.d.ts from the contract (a test-ts test fails while it lags GET /openapi.json)
client-ts-types: $(STAMP) $(CLIENT_TS_MODULES)
	@mkdir -p .aws-sam && PYTHONPATH=layers/core $(PY) -m puraify.openapi .aws-sam/openapi.json
	client-ts/node_modules/.bin/openapi-typescript .aws-sam/openapi.json --default-non-nullable false -o client-ts/src/schema.d.ts

lint: $(STAMP) $(CHECKOV_STAMP) $(CLIENT_TS_MODULES)
	$(VENV)/bin/ruff check .
	@# the arrows of docs/architecture.md: layers, ports, no cycles ([tool.importlinter] in pyproject.toml)
	PYTHONPATH=layers/core $(VENV)/bin/lint-imports
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml
	@# template.yaml, and the same as SAM transforms it (the IAM role of each function); every skip is on
	@# its resource with its reason (Metadata: checkov: skip) and in the README's table
	$(CHECKOV_VENV)/bin/python local/sam_transform.py template.yaml .aws-sam/transformed.json
	$(CHECKOV_VENV)/bin/checkov --file template.yaml .aws-sam/transformed.json --framework cloudformation \
		--compact --quiet --skip-download
	$(VENV)/bin/mypy layers/core/puraify local client/puraify_client
	@for fn in functions/*/; do (cd $$fn && MYPYPATH=$(CURDIR)/layers/core $(CURDIR)/$(VENV)/bin/mypy --config-file $(CURDIR)/pyproject.toml app.py) || exit 1; done
	@# the served contract under Spectral's OpenAPI rules (.spectral.yaml): 0 errors and 0 warnings (docs/api.md)
	@mkdir -p .aws-sam && PYTHONPATH=layers/core $(PY) -m puraify.openapi .aws-sam/openapi.json
	client-ts/node_modules/.bin/spectral lint --fail-severity=warn --ruleset .spectral.yaml .aws-sam/openapi.json

bench: $(STAMP)
	$(PY) -m bench

# schemathesis against the local API from its served /openapi.json, as admin and as a plain engine (docs/api.md)
fuzz: $(STAMP)
	PYTHONPATH=.:layers/core $(PY) -m fuzz

# `sam` is not a test dependency (it is large); `make build` installs it into .venv-sam on first use.
SAM := .venv-sam/bin/sam
$(SAM):
	PYENV_VERSION=$(PYTHON_VERSION) python3.12 -m venv .venv-sam
	.venv-sam/bin/pip install -q aws-sam-cli

# SAM_CLI_TELEMETRY=0: the SAM CLI sends usage telemetry unless told not to.
build: $(SAM) $(STAMP) $(CONSOLE_BUILT)
	SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/.venv-sam/bin:$$PATH" PYENV_VERSION=$(PYTHON_VERSION) $(SAM) validate --lint
	SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/.venv-sam/bin:$$PATH" PYENV_VERSION=$(PYTHON_VERSION) $(SAM) build
	# the deployed config function serves the contract merged from every function (puraify/openapi.py)
	PYTHONPATH=layers/core $(PY) -m puraify.openapi .aws-sam/build/CoreLayer/python/puraify/openapi.json

deploy: build
	SAM_CLI_TELEMETRY=0 $(SAM) deploy --config-env $${ENV:-default}

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache
