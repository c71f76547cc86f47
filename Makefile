# hop — build, demo, test. `make demo` and `make test` are the two set-up
# commands; each installs what it needs first (scripts/deps.sh).

CARGO ?= cargo
OUT := out
RELEASE_TREE := manifests/release
# Reproducible packages: the time of the last commit (0 outside git).
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

HOP_BUILD := target/debug/hop-build
HOP_INSTALL := target/debug/hop-install
HOP_TESTDATA := target/debug/hop-testdata

.PHONY: all deps systemd-rootfs build el-binaries el-binaries-idle release-tree demo demo-cluster test test-suite test-el test-doc pg-matrix check fuzz completions man rpm bench lint fmt clippy clean

all: build

deps:
	@./scripts/deps.sh

build:
	$(CARGO) build --workspace --bins

# The demo product's release tree (RPMs, configs, migrations per version):
# what the manifests in manifests/ build from.
release-tree: build
	$(HOP_TESTDATA) release --out $(RELEASE_TREE)

DEMO_HOST := $(OUT)/host

HOPS := 4.0.1-to-4.1.1 4.1.1-to-4.2.0 4.2.0-to-4.3.0

# Where hop-build makes the expected PostgreSQL and MariaDB schemas (a
# scratch database on each local server, dropped after).
SCHEMA_DBS := --schema-db "postgresql://$(shell id -un)@localhost/postgres?host=/var/run/postgresql" \
	--schema-db "mysql://root@localhost/mysql?socket=/run/mysqld/mysqld.sock"

demo: deps release-tree
	@mkdir -p $(OUT)/keys $(OUT)/packages
	@test -f $(OUT)/keys/vendor.sec.asc || $(HOP_BUILD) keygen --out-dir $(OUT)/keys --name vendor
	@echo "== release engineer: build and sign each hop of the demo product"
	@for hop in $(HOPS); do \
	    $(HOP_BUILD) build manifests/manager-$$hop.yaml --key $(OUT)/keys/vendor.sec.asc $(SCHEMA_DBS) -o $(OUT)/packages/manager-$$hop.hop || exit 1; \
	done
	$(HOP_BUILD) inspect $(OUT)/packages/manager-4.0.1-to-4.1.1.hop
	@echo "== customer: a manager host at 4.0.1 (a sandbox in $(DEMO_HOST)), one hop"
	@test ! -f $(DEMO_HOST)/etc/supervisord.conf || $(HOP_TESTDATA) sandbox-stop --root $(DEMO_HOST) >/dev/null 2>&1 || true
	$(HOP_TESTDATA) sandbox-create --root $(DEMO_HOST) --trust $(OUT)/keys/vendor.pub.asc
	$(HOP_INSTALL) rehearse $(OUT)/packages/manager-4.0.1-to-4.1.1.hop --root $(DEMO_HOST)
	$(HOP_INSTALL) check $(OUT)/packages/manager-4.0.1-to-4.1.1.hop --root $(DEMO_HOST)
	$(HOP_INSTALL) apply $(OUT)/packages/manager-4.0.1-to-4.1.1.hop --max-downtime 1m --root $(DEMO_HOST)
	@echo "rest-service now says: $$(curl -s http://127.0.0.1:8101/version)"
	$(HOP_INSTALL) rollback --root $(DEMO_HOST) --yes
	@echo "rest-service now says: $$(curl -s http://127.0.0.1:8101/version)"
	@echo "== support staff: from 4.0.1 to the newest version in one command"
	$(HOP_INSTALL) path --to 4.3.0 $(OUT)/packages --root $(DEMO_HOST)
	$(HOP_INSTALL) upgrade --to 4.3.0 $(OUT)/packages --root $(DEMO_HOST)
	@echo "rest-service now says: $$(curl -s http://127.0.0.1:8101/version)"
	$(HOP_INSTALL) status --root $(DEMO_HOST)
	$(HOP_INSTALL) history --root $(DEMO_HOST)
	$(HOP_TESTDATA) sandbox-stop --root $(DEMO_HOST)

# A three-node cluster (network namespaces, one PostgreSQL, HAProxy) rolled
# from 4.0.1 to 4.3.0 by ansible/playbooks/upgrade.yml, node by node, while
# clients send requests through HAProxy; prints what they saw.
demo-cluster: deps release-tree
	@mkdir -p $(OUT)/keys $(OUT)/packages-rolling
	@test -f $(OUT)/keys/vendor.sec.asc || $(HOP_BUILD) keygen --out-dir $(OUT)/keys --name vendor
	@echo "== release engineer: build the cluster edition's hops (no offline migrations: rolling)"
	@for hop in $(HOPS); do \
	    $(HOP_BUILD) build manifests/rolling/manager-$$hop.yaml --key $(OUT)/keys/vendor.sec.asc $(SCHEMA_DBS) -o $(OUT)/packages-rolling/manager-$$hop.hop || exit 1; \
	done
	$(HOP_TESTDATA) demo-cluster --trust $(OUT)/keys/vendor.pub.asc --packages $(OUT)/packages-rolling --to 4.3.0

# The sandbox-host tests wait on processes more than they compute: four
# at a time keep two cores busy (`cargo test`; `make test` runs nextest,
# whose limits are in .config/nextest.toml).
export RUST_TEST_THREADS ?= 4

# The systemd test host's root file system, built once (target/).
systemd-rootfs: deps
	@./scripts/systemd-rootfs.sh

# `make lint` first: a formatting or clippy finding fails the run, as CI's.
# The root file system downloads while cargo compiles (-j2). The tests of
# every binary run side by side under nextest (.config/nextest.toml); they
# mostly wait on processes, so the EL binaries build meanwhile at the
# lowest CPU priority on what the tests leave idle. Then what needs those
# binaries (the RPM test, el-suite), the doc tests and the PostgreSQL
# matrix, side by side.
test: deps
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint systemd-rootfs
	$(CARGO) build --workspace --bins --tests
	@rm -rf target/tmp/matrices
	@$(MAKE) --no-print-directory -j2 test-suite el-binaries-idle
	@$(MAKE) --no-print-directory -j3 --output-sync=target test-el test-doc pg-matrix
	@./scripts/matrices.sh

# The test that installs the EL binaries' RPM runs after they are built.
NEEDS_EL_BINARIES := test(the_installer_rpm_carries_binaries_man_pages_and_completions_and_installs)
test-suite:
	$(CARGO) nextest run --workspace --no-fail-fast -E 'not $(NEEDS_EL_BINARIES)'

el-binaries-idle:
	@mkdir -p target
	@echo "el-binaries: building at nice 19 beside the tests (target/el-binaries.log)"
	@nice -n 19 $(MAKE) --no-print-directory el-binaries >target/el-binaries.log 2>&1 \
	    || { cat target/el-binaries.log; exit 1; }
	@echo "el-binaries: built and checked for glibc 2.17"

test-el:
	$(CARGO) nextest run --no-fail-fast --status-level fail --final-status-level slow \
	    -p xtask -E '$(NEEDS_EL_BINARIES)'
	@./scripts/el-suite.sh

test-doc:
	$(CARGO) test --workspace --doc

pg-matrix:
	@./scripts/pg-matrix.sh

# The fast tier while working: formatting, clippy and the unit tests
# (every decision the installer makes is a function they call), no
# sandbox host, no database: seconds after a build.
check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	$(CARGO) test --workspace --lib --bins

# Shell completions (bash, zsh, fish) and man pages, from the real CLIs.
completions:
	$(CARGO) run -q -p xtask -- completions --out target/completions

man:
	$(CARGO) run -q -p xtask -- man --out target/man

# The release binaries customers run: built with cargo-zigbuild against
# glibc 2.17 (EL7; EL8 and EL9 run them too), then checked for it.
EL_TARGET := x86_64-unknown-linux-gnu.2.17
EL_BINARIES := target/x86_64-unknown-linux-gnu/release
el-binaries: deps
	$(CARGO) zigbuild --release --target $(EL_TARGET) -p hop-installer -p hop-builder
	$(CARGO) run -q -p xtask -- glibc --max 2.17 $(EL_BINARIES)/hop-install $(EL_BINARIES)/hop-build

# hop-installer and hop-builder RPMs (the EL binaries, man pages,
# completions, an example host.yaml): rpm -i installs them.
rpm: el-binaries
	$(CARGO) run -q -p xtask -- rpm --out target/rpm --binaries $(EL_BINARIES)
	rpm -qpl target/rpm/hop-installer-*.rpm

# Benchmarks against baselines measured in the same run (not part of
# `make test`); writes docs/benchmarks.md. BENCH_FLAGS=--quick skips 4 GiB.
bench: deps
	$(CARGO) build --release -p hop-builder -p hop-installer -p hop-bench
	target/release/hop-bench --out docs/benchmarks.md $(BENCH_FLAGS)

# Fuzz the manifest parsers and the archive reader, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
fuzz: build release-tree
	./scripts/fuzz.sh $(FUZZ_SECONDS)

lint: deps fmt clippy

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

clean:
	$(CARGO) clean
	rm -rf $(OUT) $(RELEASE_TREE)
