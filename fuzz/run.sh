#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), JOBS at a time (default 1), and
# prints each target's libFuzzer final stats (executions, corpus size). Needs the nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
#
#   fuzz/run.sh 600          # ten minutes per target, one after another
#   JOBS=2 fuzz/run.sh 600   # two targets at a time
#
# SANITIZER (default none) is passed to cargo-fuzz: acl's crates forbid unsafe code, so
# AddressSanitizer has little to find and costs half the executions; debug assertions
# (overflow checks) stay on. SANITIZER=address for a run with ASan.
#
# Each target starts from its committed seeds in corpus/<target>/ (new inputs the fuzzer
# finds are added there and ignored by git). A crash stops the target and leaves its
# input in artifacts/<target>/; the script then exits non-zero.
set -euo pipefail

seconds="${1:-60}"
jobs="${JOBS:-1}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
logs="$here/target/logs"
mkdir -p "$logs"

targets=$(cargo +nightly fuzz list)
sanitizer="${SANITIZER:-none}"
cargo +nightly fuzz build -s "$sanitizer"

run_one() {
    local target="$1"
    local log="$logs/$target.log"
    echo "fuzzing $target for ${seconds}s (log: $log)"
    if cargo +nightly fuzz run -s "$sanitizer" "$target" -- -max_total_time="$seconds" -print_final_stats=1 \
        >"$log" 2>&1; then
        local execs
        execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
        echo "$target: ok, ${execs:-?} execs in ${seconds}s"
    else
        echo "$target: FAILED, see $log and artifacts/$target/"
        return 1
    fi
}

status=0
running=0
for target in $targets; do
    run_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || status=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || status=1
    running=$((running - 1))
done
exit "$status"
