# Starts a `bao server -dev` on a free 127.0.0.1 port with a file audit device (OpenBao 2.x
# declares audit devices in the config file), exports BAO_ADDR/VAULT_ADDR/VAULT_TOKEN/AUDIT_LOG.
start_openbao() {
    local dir=$1 port
    port=$(python3 -c 'import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass')
    export AUDIT_LOG="$dir/audit.log"
    printf 'audit "file" "requests" {\n  options {\n    file_path = "%s"\n  }\n}\n' "$AUDIT_LOG" > "$dir/openbao.hcl"
    bao server -dev -dev-root-token-id=bench-root -dev-listen-address="127.0.0.1:$port" \
        -config="$dir/openbao.hcl" > "$dir/openbao.log" 2>&1 &
    OPENBAO_PID=$!
    export BAO_ADDR="http://127.0.0.1:$port" VAULT_ADDR="http://127.0.0.1:$port"
    export BAO_TOKEN=bench-root VAULT_TOKEN=bench-root
    for _ in $(seq 1 100); do
        bao status >/dev/null 2>&1 && [ -f "$AUDIT_LOG" ] && return 0
        sleep 0.1
    done
    echo "OpenBao did not start:" >&2; cat "$dir/openbao.log" >&2; return 1
}
stop_openbao() { kill "$OPENBAO_PID" 2>/dev/null || true; wait "$OPENBAO_PID" 2>/dev/null || true; }

# The common start of a Vault benchmark: a release build, the results folder, and a fresh
# OpenBao in a temporary folder, all cleaned up on exit. Sets bin, results and work.
bench_setup() {
    cargo build --release --quiet
    bin="$PWD/target/release/cronos-secrets"
    results="$PWD/bench/results"
    mkdir -p "$results"
    work=$(mktemp -d)
    start_openbao "$work"
    trap 'stop_openbao; rm -rf "$work"' EXIT
}

# The guide's five secrets at secret/cronos-ai/production/<name>, field value.
put_guide_secrets() {
    local name
    for name in database_password redis_password jwt_secret encryption_key api_key; do
        bao kv put -mount=secret "cronos-ai/production/$name" value="bench-$name-0123456789abcdefghijklmnopqrstuv" >/dev/null
    done
}
