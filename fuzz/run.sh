#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, keeping and minimising the corpus
# under fuzz/corpus/<target>, which tests/fuzz_corpus.rs replays on stable (with the inputs
# that once failed, kept apart in fuzz/regressions/<target> so that cmin cannot drop them).
#   bash fuzz/run.sh 600                 # ten minutes per target
#   bash fuzz/run.sh 60 env_file config  # a minute for two targets
# Needs nightly and cargo-fuzz: rustup toolchain install nightly; cargo install cargo-fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    echo "fuzz/run.sh: $target for ${seconds}s" >&2
    # -jobs=1: one core, so the machine stays usable; -max_len bounds memory.
    cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -print_final_stats=1
    cargo +nightly fuzz cmin "$target" "fuzz/corpus/$target" >/dev/null 2>&1 || true
done
