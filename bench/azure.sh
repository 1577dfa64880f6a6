#!/usr/bin/env bash
# Azure Key Vault launch benchmark (issue 10), against the in-repo fake over HTTPS:
#   1. wall time of a launch with 5 and with 100 secrets, side by side in one hyperfine run
#      with the floor: a bash script that makes the same token request (curl), the same
#      unauthenticated challenge GET and the same GETs (curl --parallel --parallel-max 16),
#      then execs the program;
#   2. requests per launch, counted in the fake's request log (goal: N GETs + 1 token +
#      1 challenge).
# The burst of 500 launches against a 100 GETs/s limit is bench/azure-burst.sh.
#
#   bash bench/azure.sh          # results in bench/results/azure-*.{md,json,txt}
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine curl openssl python3; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine curl openssl)" >&2; exit 1; }
done
source "$(dirname "$0")/lib/azure.sh"
azure_bench_setup

: > "$work/five.env"; : > "$work/hundred.env"; : > "$work/five-urls"; : > "$work/hundred-urls"
for i in $(seq 1 100); do
    plant "bench-s$i" "bench-secret-value-$i-0123456789abcdef"
    echo "S$i=secret://bench-s$i" >> "$work/hundred.env"
    printf 'url = "%s/secrets/bench-s%d?api-version=7.4"\noutput = "/dev/null"\n' "$VAULT_URL" "$i" >> "$work/hundred-urls"
    if [ "$i" -le 5 ]; then
        echo "S$i=secret://bench-s$i" >> "$work/five.env"
        printf 'url = "%s/secrets/bench-s%d?api-version=7.4"\noutput = "/dev/null"\n' "$VAULT_URL" "$i" >> "$work/five-urls"
    fi
done

cd "$work"
cat > curl-floor.sh <<'CURL'
#!/usr/bin/env bash
# What the launcher does, by hand: the challenge, one token, the GETs in parallel.
curl -s -o /dev/null "$VAULT_URL/secrets/bench-s1?api-version=7.4"
token=$(curl -s --fail "$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token" \
    -d grant_type=client_credentials -d "client_id=$AZURE_CLIENT_ID" \
    --data-urlencode "client_secret=$AZURE_CLIENT_SECRET" \
    --data-urlencode "scope=https://vault.azure.net/.default" \
    | sed -n 's/.*"access_token": "\([^"]*\)".*/\1/p')
curl -s --fail --parallel --parallel-max 16 -H "Authorization: Bearer $token" --config "$1"
exec true
CURL
chmod +x curl-floor.sh

run_set() { # label curl-config env-file
    hyperfine -N --warmup 3 --runs "${RUNS:-30}" \
        --export-json "$results/azure-$1.json" --export-markdown "$results/azure-$1.md" \
        -n "curl --parallel (floor)" "./curl-floor.sh $2" \
        -n "cronos-secrets run" "$bin --config azure.yaml --env-file $3 run -- true"
}
run_set five five-urls five.env
RUNS=${RUNS_100:-15} run_set hundred hundred-urls hundred.env

requests_of() { # env-file → the fake's count of each kind for one launch
    local gets challenges tokens
    gets=$(requests_of_kind get); challenges=$(requests_of_kind challenge); tokens=$(requests_of_kind token)
    "$bin" -q --config azure.yaml --env-file "$1" run -- true
    echo "$(( $(requests_of_kind get) - gets )) GETs, $(( $(requests_of_kind challenge) - challenges )) challenge, $(( $(requests_of_kind token) - tokens )) token"
}
{
    echo "5 secrets:   $(requests_of five.env)"
    echo "100 secrets: $(requests_of hundred.env)"
} | tee "$results/azure-requests.txt"

python3 - "$results" <<'PY'
import json, statistics, sys, pathlib
for label in ("five", "hundred"):
    results = json.load(open(pathlib.Path(sys.argv[1]) / f"azure-{label}.json"))["results"]
    medians = {r["command"]: statistics.median(r["times"]) * 1000 for r in results}
    floor = medians["curl --parallel (floor)"]
    for name, median in medians.items():
        print(f"{label:8s} {name:26s} median {median:9.2f} ms   x{median / floor:5.2f} of floor")
PY
