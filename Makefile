# wacast: `make run` starts the whole product locally; `make test` proves it works.
# Both install what they need (venv, pip and npm packages, Debian packages) by themselves.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
FUNCTIONS := $(wildcard functions/*)
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
export POWERTOOLS_TRACE_DISABLED := true
export POWERTOOLS_METRICS_DISABLED := true

WEBJS := session_host/webjs
export PUPPETEER_SKIP_DOWNLOAD := 1
# The web console (docs/console.md): its browser tests drive Debian's Chromium with playwright-core, which
# never downloads a browser; this keeps any other Playwright package from doing so either.
WEB := web
CHROMIUM ?= /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: help install run test lint fmt cfn unit unit-py312 integration e2e bench openapi clean webjs-install webjs-test
.PHONY: web-install web-build web-test web-dev

help:
	@echo "make run    - the local stack (moto + pollers + scheduler + API :3000 + session host) and a demo"
	@echo "make test   - lint, template checks, unit, integration and e2e tests"
	@echo "make lint   - ruff + mypy;  make cfn - cfn-lint + sam validate;  make bench - benchmarks"
	@echo "make openapi - regenerate openapi.json from the API and the console's TS client (tests fail when they drift)"
	@echo "make web-build / web-test / web-dev - the web console: build, its tests (Vitest + Chromium), Vite dev server"
	@echo "make build  - sam build (arm64) + deploy/check_artifacts.py;  deploying to AWS: docs/deploy.md"
	@echo "make images / make deploy / make owner EMAIL=... / make teardown  (STACK=$(STACK) REGION=$(REGION))"

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt session_host/requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "wacast needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@# the shared layer and the repo root on the venv's path (what the Lambda layer and image do)
	$(PY) -c 'import site, pathlib; pathlib.Path(site.getsitepackages()[0], "wacast-dev.pth").write_text("\n".join([str(pathlib.Path("layers/common").resolve()), str(pathlib.Path(".").resolve())]) + "\n")'
	touch $@

$(SAM): 
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==1.170.0

install: $(VENV)/.installed

# make run DRIVER=neonize: the real WhatsApp drivers, to link your own phone (docs/local-real-phone.md);
# the sidecar's npm packages are installed when npm is there (without them its fallback is off).
run: install web-build $(if $(and $(filter neonize,$(DRIVER)),$(shell command -v npm)),webjs-install)
	$(PY) -m local $(if $(DRIVER),--driver $(DRIVER))

test: lint cfn build unit unit-py312 webjs-test web-test integration e2e

# The whatsapp-web.js sidecar: `npm ci` from the lock file (puppeteer is aliased to puppeteer-core,
# and PUPPETEER_SKIP_DOWNLOAD is set, so no browser is downloaded), then its node tests.
$(WEBJS)/node_modules/.installed: $(WEBJS)/package.json $(WEBJS)/package-lock.json
	cd $(WEBJS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

webjs-install: $(WEBJS)/node_modules/.installed

webjs-test: webjs-install
	cd $(WEBJS) && node --test test/

lint: install
	$(VENV)/bin/hadolint session_host/Dockerfile session_host/webjs/Dockerfile
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/common/wacast
	MYPYPATH=layers/common $(VENV)/bin/mypy session_host
	$(VENV)/bin/mypy deploy
	@for fn in $(FUNCTIONS); do echo "mypy $$fn"; MYPYPATH=layers/common:$$fn $(VENV)/bin/mypy $$fn || exit 1; done

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

cfn: install $(SAM)
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/cfn-lint deploy/ecr.yaml
	$(SAM) validate --lint --template template.yaml

unit: install
	$(PY) -m pytest tests/unit -q

# Lambda runs python3.12: the unit tests run under it too, in a venv of its own.
PY312 := $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && echo $$p && break; done)
VENV312 := .tools/py312

$(VENV312)/.installed: requirements-dev.txt layers/common/requirements.txt session_host/requirements.txt
	$(PY312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install --quiet -r requirements-dev.txt
	$(VENV312)/bin/python -c 'import site, pathlib; pathlib.Path(site.getsitepackages()[0], "wacast-dev.pth").write_text("\n".join([str(pathlib.Path("layers/common").resolve()), str(pathlib.Path(".").resolve())]) + "\n")'
	touch $@

unit-py312:
ifeq ($(PY312),)
	@echo "python3.12 not found: the unit tests ran on $$($(PY) --version) only"
else
	$(MAKE) --no-print-directory $(VENV312)/.installed
	$(VENV312)/bin/python -m pytest tests/unit -q -p no:cacheprovider
endif

# Two workers, each with its own moto server; every test provisions a stack of its own, so they share nothing.
integration: install
	$(PY) -m pytest tests/integration -q -n 2

e2e: install
	$(PY) -m pytest tests/e2e -q

openapi: install web-install
	$(PY) -m local.openapi
	cd $(WEB) && npm run -s openapi

# Every bench, then bench/RESULTS.md (bench/run.py); the cold start runs under Lambda's Python 3.12 (PY312).
bench: install
	PY312="$(PY312)" $(PY) bench/run.py

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache $(WEBJS)/node_modules $(WEB)/node_modules $(WEB)/dist $(WEB)/test-results

# ---------------------------------------------------------------- the web console (docs/console.md)
# `npm ci` from the lock file; the build (typecheck, then Vite) when a source changed; the tests: Vitest's
# component tests (jsdom), then the browser tests in headless Chromium against a local stack of their own
# (web/tests/browser/), screenshots in web/test-results/screenshots/. Chromium is Debian's package.
WEB_SRC := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) $(addprefix $(WEB)/,index.html vite.config.ts tsconfig.json)

$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web-install: $(WEB)/node_modules/.installed

$(WEB)/dist/index.html: $(WEB)/node_modules/.installed $(WEB_SRC)
	cd $(WEB) && npm run -s build

web-build: $(WEB)/dist/index.html

ROOT_OR_SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "no $(CHROMIUM): install Chromium, or set CHROMIUM=/path/to/chromium" >&2; exit 1; }
	$(ROOT_OR_SUDO) apt-get update -qq
	$(ROOT_OR_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

web-test: install web-build $(CHROMIUM)
	cd $(WEB) && npx vitest run --project unit
	cd $(WEB) && CHROMIUM_PATH=$(CHROMIUM) npx vitest run --project browser

# The console with hot reload on http://127.0.0.1:5173, its API calls sent to a running `make run`.
web-dev: web-install
	cd $(WEB) && npm run dev

# ---------------------------------------------------------------- AWS (docs/deploy.md)
.PHONY: build images deploy owner teardown

STACK ?= wacast-dev
CONFIG_ENV ?= default
REGION ?= $(or $(AWS_REGION),$(shell sed -n 's/^region *= *"\(.*\)"/\1/p' samconfig.toml | head -n 1))
PY312_EXE = $(shell $(PY312) -c 'import sys; print(sys.executable)')

# sam build of the arm64 template with the runtime's python3.12 first on PATH (SAM_CLI_TELEMETRY=0 is
# exported above), then the artifacts check: aarch64 binaries only, Lambda's 250 MB limit, and the code
# compiled to python3.12 bytecode.
build: $(SAM)
ifeq ($(PY312),)
	@echo "make build: no python3.12 found (on PATH or in pyenv): sam build needs the Lambda runtime's Python 3.12" >&2
	@exit 1
else
	PATH="$(dir $(PY312_EXE)):$$PATH" $(SAM) build --template template.yaml
	$(PY312_EXE) -m deploy.check_artifacts --build-dir .aws-sam/build --python $(PY312_EXE)
endif

images:
	STACK=$(STACK) REGION=$(REGION) bash deploy/images.sh

deploy: build web-build
	STACK=$(STACK) REGION=$(REGION) CONFIG_ENV=$(CONFIG_ENV) SAM=$(SAM) PARAMS="$(PARAMS)" IMAGE_TAG=$(IMAGE_TAG) bash deploy/deploy.sh $(DEPLOY_ARGS)

owner: install
	@test -n "$(EMAIL)" || { echo "usage: make owner EMAIL=you@example.com [STACK=$(STACK)]" >&2; exit 1; }
	AWS_REGION=$(REGION) AWS_DEFAULT_REGION=$(REGION) $(PY) -m deploy.create_owner --stack-name $(STACK) --email $(EMAIL)

teardown: $(SAM)
	STACK=$(STACK) REGION=$(REGION) SAM=$(SAM) bash deploy/teardown.sh
