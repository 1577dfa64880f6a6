#!/usr/bin/env bash
# A launch with 50,000 env-file entries (issue 8; 100,000 would exceed Linux's 2 MiB limit on a program's environment): `run` used to take seconds (3.5 s at 40,000, 29 s at 100,000) (a linear search
# per variable while building the program's environment); `check` and `export` were always
# under a second. Side by side in one hyperfine run.
#   bash bench/many-entries.sh      # results in bench/results/many-entries.{md,json}
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
cargo build --release --quiet
bin="$PWD/target/release/cronos-secrets"
results="$PWD/bench/results"
mkdir -p "$results"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(50_000):
        f.write(f'VAR_{i}=value-{i}\n')
" "$work/many.env"
printf 'secrets: {}\n' > "$work/none.yaml"
cd "$work"
hyperfine -N --warmup 1 --runs "${RUNS:-5}" \
    --export-json "$results/many-entries.json" --export-markdown "$results/many-entries.md" \
    -n "check" "$bin --config none.yaml --env-file many.env check --format json" \
    -n "run -- true" "$bin --config none.yaml --env-file many.env run -- true"
