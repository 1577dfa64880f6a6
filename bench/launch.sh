#!/usr/bin/env bash
# Launcher overhead (issue 2): `cronos-secrets run` with the env backend, the guide's five
# required secrets and a 50-line env file, side by side with starting the program directly
# (`env -i … true`) and with python-dotenv's `dotenv run`, in one hyperfine run.
#
#   bash bench/launch.sh            # writes bench/results/launch.{md,json}
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
command -v dotenv >/dev/null || python3 -m pip install --quiet 'python-dotenv[cli]'
cargo build --release --quiet
bin="$PWD/target/release/cronos-secrets"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. bench/lib/launch_env.sh
write_launch_env "$work/bench.env"
# The direct baseline gets the same 50 variables, so the difference is the launcher alone.
mapfile -t vars < "$work/bench.env"

mkdir -p bench/results
cd "$work"
hyperfine --warmup 20 --runs "${RUNS:-300}" -N \
    --export-markdown "$OLDPWD/bench/results/launch.md" \
    --export-json "$OLDPWD/bench/results/launch.json" \
    -n "env -i (direct)" "env -i PATH=/usr/bin:/bin ${vars[*]} true" \
    -n "cronos-secrets run" "env -i PATH=/usr/bin:/bin $bin run --env-file bench.env -- true" \
    -n "dotenv run" "env -i PATH=/usr/bin:/bin:$(dirname "$(command -v python3)") $(command -v dotenv) -f bench.env run true"
python3 - "$OLDPWD/bench/results/launch.json" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
medians = {r["command"]: statistics.median(r["times"]) * 1000 for r in results}
base = medians["env -i (direct)"]
for name, median in medians.items():
    print(f"{name:22s} median {median:8.3f} ms   +{median - base:7.3f} ms   x{median / base:5.2f}")
PY
