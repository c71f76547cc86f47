#!/bin/sh
# make test's main paths with the release binary customers install (built
# for glibc 2.17 by `make el-binaries`): apply with its refusals and
# rollbacks, a chain of hops, and the plan that runs, on SQLite and
# PostgreSQL sandbox hosts.
set -eu
bin=$(pwd)/target/x86_64-unknown-linux-gnu/release/hop-install
if [ ! -x "$bin" ]; then
    echo "el-suite: $bin is missing: run make el-binaries"
    exit 1
fi
echo
echo "== the main paths with $bin"
HOP_TEST_INSTALL_BIN=$bin cargo nextest run --no-fail-fast --status-level fail --final-status-level slow \
    -p hop-installer --test apply --test chain --test plan
