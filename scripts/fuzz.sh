#!/bin/sh
# Fuzzes hop's parsers and archive reader for a bounded time each (seconds
# as $1, default 60). Any crash is copied into fuzz/regressions/<target>/,
# which `make test` replays, and the run fails.
set -eu
seconds=${1:-60}
cd "$(dirname "$0")/.."

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz
# cargo-fuzz needs nightly features; use nightly when rustup has it, else
# let the stable compiler accept them.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz="cargo +nightly fuzz"
else
    fuzz="env RUSTC_BOOTSTRAP=1 cargo fuzz"
fi

# Seeds: the demo manifests, and a real package with its hop.yaml.
mkdir -p fuzz/corpus/source_manifest fuzz/corpus/package_manifest fuzz/corpus/archive_reader
cp manifests/*.yaml fuzz/corpus/source_manifest/
seed=$(mktemp -d)
target/debug/hop-build keygen --out-dir "$seed" --name seed >/dev/null
target/debug/hop-build build manifests/manager-4.0.1-to-4.1.1.yaml --key "$seed/seed.sec.asc" -o fuzz/corpus/archive_reader/seed.hop >/dev/null
(cd "$seed" && tar xf "$OLDPWD/fuzz/corpus/archive_reader/seed.hop" hop.yaml && cp hop.yaml "$OLDPWD/fuzz/corpus/package_manifest/seed.yaml")
rm -rf "$seed"

status=0
for target in package_manifest source_manifest archive_reader; do
    echo "== fuzzing $target for ${seconds}s"
    (cd fuzz && $fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 2>&1 | grep -E "^(Done|stat::number_of_executed_units|SUMMARY|==[0-9]+==ERROR)" || true)
    for crash in fuzz/artifacts/"$target"/crash-* fuzz/artifacts/"$target"/oom-* fuzz/artifacts/"$target"/timeout-*; do
        [ -e "$crash" ] || continue
        cp "$crash" fuzz/regressions/"$target"/
        echo "FOUND: $crash (kept in fuzz/regressions/$target/; fix it, the regression test replays it)"
        status=1
    done
done
exit $status
