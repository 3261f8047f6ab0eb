#!/usr/bin/env bash
# Runs every cargo-fuzz target in turn, instrumented (ASan + coverage), for SECONDS each
# (default 300), with its corpus seeded from the regression inputs in tests/fixtures/fuzz/.
# Findings land in fuzz/artifacts/<target>/; copy each into tests/fixtures/fuzz/<target>/ once
# fixed so `cargo test --test fuzz_regressions` keeps it fixed. Needs cargo-fuzz:
#   RUSTC_BOOTSTRAP=1 cargo install cargo-fuzz
#
#   scripts/fuzz-all.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-300}
shift || true
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
bin=$(ls -d target/*/release | head -1)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  cp -n "../tests/fixtures/fuzz/$t/"* "corpus/$t/" 2>/dev/null || true
  echo "== $t ($secs s, started $(date -u +%H:%M:%S))"
  status=0
  "$bin/$t" "corpus/$t" -max_total_time="$secs" -artifact_prefix="artifacts/$t/" \
    -print_final_stats=1 -rss_limit_mb=2048 > "artifacts/$t.log" 2>&1 || status=$?
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^SUMMARY|panicked at' "artifacts/$t.log" || true
  echo "exit $status, corpus $(ls "corpus/$t" | wc -l) inputs, findings $(ls "artifacts/$t" | wc -l)"
done
