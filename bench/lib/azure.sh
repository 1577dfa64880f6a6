# The in-repo fake Key Vault (tests/common/azure_fake.py) over HTTPS from a CA made here, on
# free 127.0.0.1 ports, with a client-secret credential registered. Exports the variables a
# launch needs (SSL_CERT_FILE, AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_CLIENT_ID,
# AZURE_CLIENT_SECRET, AZURE_POD_IDENTITY_AUTHORITY_HOST) and VAULT_URL, ADMIN, FAKE_LOG.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_azure_fake() {
    local dir=$1 vault_port login_port admin_port
    (
        cd "$dir"
        # ECDSA: the fake is one Python process, and RSA handshakes would make it the bottleneck.
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench CA" -keyout ca.key -out ca.pem \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -out server.pem -extfile server.ext 2>/dev/null
    )
    vault_port=$(free_port); login_port=$(free_port); admin_port=$(free_port)
    export FAKE_LOG="$dir/fake.log"
    python3 -u tests/common/azure_fake.py --cert "$dir/server.pem" --key "$dir/server.key" \
        --vault-ports "$vault_port,$(free_port)" --login-port "$login_port" --admin-port "$admin_port" \
        > "$FAKE_LOG" 2>&1 &
    AZURE_FAKE_PID=$!
    export VAULT_URL="https://127.0.0.1:$vault_port" ADMIN="http://127.0.0.1:$admin_port"
    export SSL_CERT_FILE="$dir/ca.pem" AZURE_AUTHORITY_HOST="https://127.0.0.1:$login_port"
    export AZURE_POD_IDENTITY_AUTHORITY_HOST="$ADMIN"
    export AZURE_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47 AZURE_CLIENT_ID=bench-client
    export AZURE_CLIENT_SECRET=bench-client-secret
    for _ in $(seq 1 100); do
        curl -s -X POST "$ADMIN/_admin/ready" >/dev/null 2>&1 && break
        sleep 0.1
    done
    admin client "{\"client_id\":\"$AZURE_CLIENT_ID\",\"client_secret\":\"$AZURE_CLIENT_SECRET\"}"
}
stop_azure_fake() { kill "$AZURE_FAKE_PID" 2>/dev/null || true; wait "$AZURE_FAKE_PID" 2>/dev/null || true; }

admin() { curl -s --fail -X POST "$ADMIN/_admin/$1" -d "$2" >/dev/null; }
plant() { admin plant "{\"vault\":\"${VAULT_URL#https://}\",\"name\":\"$1\",\"value\":\"$2\"}"; }
requests_of_kind() { grep -c "\"kind\": \"$1\"" "$FAKE_LOG" || true; }

# The static binary that ships (built once, also for the size check), else a release build.
# Sets bin, results and work, starts the fake, and cleans up on exit.
azure_bench_setup() {
    bin=${BIN:-$PWD/target/x86_64-unknown-linux-musl/release/cronos-secrets}
    if [ ! -x "$bin" ]; then
        cargo build --release --quiet
        bin="$PWD/target/release/cronos-secrets"
    fi
    results="$PWD/bench/results"
    mkdir -p "$results"
    work=$(mktemp -d)
    start_azure_fake "$work"
    trap 'stop_azure_fake; [ -n "${KEEP_LOG:-}" ] && cp "$FAKE_LOG" "$KEEP_LOG"; rm -rf "$work"' EXIT
    printf 'secrets: {}\nsecrets_manager:\n  backend: azure_key_vault\n  azure_vault_url: %s\n  azure_verify_challenge_resource: false\n' \
        "$VAULT_URL" > "$work/azure.yaml"
}
