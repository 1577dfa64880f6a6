#!/usr/bin/env bash
# A rollout against a throttled Vault (issue 3): 500 launches of the guide's five secrets,
# started at once with --timeout 120s, against an OpenBao rate-limit quota of 100 requests/s
# on the mount. Goal: every launch succeeds, and the whole burst takes at most 1.5x the 25 s
# that the quota itself imposes (2,500 reads at 100/s).
#
#   bash bench/vault-burst.sh [LAUNCHES] [RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
launches=${1:-500}
rate=${2:-100}
source "$(dirname "$0")/lib/openbao.sh"
bench_setup
ulimit -n 65536 2>/dev/null || true

put_guide_secrets
bao write sys/quotas/rate-limit/rollout path=secret/ rate="$rate" interval=1s >/dev/null
printf 'secrets_manager:\n  backend: vault\n  vault_path: cronos-ai/production\n' > "$work/five.yaml"

reads_before=$(grep -c '"type":"request".*"path":"secret/data/' "$AUDIT_LOG" || true)
start=$(date +%s.%N)
pids=()
for i in $(seq 1 "$launches"); do
    ( "$bin" -q --config "$work/five.yaml" --no-env-file --timeout 120s run -- true; echo $? > "$work/exit.$i" ) &
    pids+=($!)
done
wait "${pids[@]}" # not a bare `wait`: the OpenBao server is a background job of this shell too
end=$(date +%s.%N)
failed=$(cat "$work"/exit.* | grep -cv '^0$' || true)
attempts=$(( $(grep -c '"type":"request".*"path":"secret/data/' "$AUDIT_LOG" || true) - reads_before ))
python3 - "$start" "$end" "$launches" "$rate" "$failed" "$attempts" <<'PY' | tee "$results/vault-burst.txt"
import sys
start, end, launches, rate, failed, attempts = map(float, sys.argv[1:])
floor = launches * 5 / rate
total = end - start
print(f"{int(launches)} launches x 5 secrets against {int(rate)} req/s: {int(launches - failed)} succeeded, {int(failed)} failed")
print(f"total {total:.1f} s; the quota's own floor {floor:.1f} s; ratio x{total / floor:.2f} (goal <= 1.5)")
print(f"KV reads OpenBao accepted (its audit device does not log the 429s): {int(attempts)}")
PY
