#!/usr/bin/env bash
# A rollout against a throttled Key Vault (issue 10): LAUNCHES launches of five secrets each,
# started at once with --timeout 120s, against the fake limiting GETs to RATE per second and
# answering 429 with Retry-After. Goal: every launch succeeds, and the whole burst takes at
# most 1.5x the time the limit itself imposes (LAUNCHES x 5 GETs at RATE/s).
#
#   bash bench/azure-burst.sh [LAUNCHES] [RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
launches=${1:-500}
rate=${2:-100}
source "$(dirname "$0")/lib/azure.sh"
azure_bench_setup
ulimit -n 65536 2>/dev/null || true

: > "$work/five.env"
for i in 1 2 3 4 5; do
    plant "burst-s$i" "burst-secret-value-$i-0123456789abcdef"
    echo "S$i=secret://burst-s$i" >> "$work/five.env"
done
admin configure "{\"rate\": $rate}"

gets_before=$(requests_of_kind get)
start=$(date +%s.%N)
pids=()
for i in $(seq 1 "$launches"); do
    ( "$bin" -q --config "$work/azure.yaml" --env-file "$work/five.env" --timeout 120s run -- true; echo $? > "$work/exit.$i" ) &
    pids+=($!)
done
wait "${pids[@]}" # not a bare `wait`: the fake is a background job of this shell too
end=$(date +%s.%N)
failed=$(cat "$work"/exit.* | grep -cv '^0$' || true)
gets=$(( $(requests_of_kind get) - gets_before ))
throttled=$(requests_of_kind throttled)
python3 - "$start" "$end" "$launches" "$rate" "$failed" "$gets" "$throttled" <<'PY' | tee "$results/azure-burst.txt"
import sys
start, end, launches, rate, failed, gets, throttled = map(float, sys.argv[1:])
floor = launches * 5 / rate
total = end - start
print(f"{int(launches)} launches x 5 secrets against {int(rate)} GETs/s: {int(launches - failed)} succeeded, {int(failed)} failed")
print(f"total {total:.1f} s; the limit's own floor {floor:.1f} s; ratio x{total / floor:.2f} (goal <= 1.5)")
print(f"GETs served {int(gets)}, answered 429 with Retry-After {int(throttled)}")
PY
