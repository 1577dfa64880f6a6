"""cache_ttl: values served from memory, then kept while the backend's metadata shows the same
version (as `run --watch` polls), and a rotation by `cronos-secrets rotate` is seen."""

import os
import secrets
import subprocess
import time
from pathlib import Path

import cronos_secrets
from conftest import BAO_TOKEN, ROOT, planted


def launcher():
    """The cronos-secrets binary `cargo test` built beside these tests."""
    if os.environ.get("CRONOS_SECRETS_BIN"):
        return os.environ["CRONOS_SECRETS_BIN"]
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return str(target / "debug" / "cronos-secrets")


def config_file(tmp_path, openbao, prefix):
    config = tmp_path / "cronos_ai.yaml"
    config.write_text(
        "secrets_manager:\n  enabled: true\n  backend: vault\n"
        f"  vault_addr: {openbao.address}\n  vault_path: {prefix}\n"
    )
    return config


def test_a_rotation_is_seen_through_the_metadata_refresh(openbao, tmp_path, monkeypatch):
    prefix = f"cache{secrets.token_hex(4)}"
    first = planted("first")
    openbao.put(f"{prefix}/api_key", {"value": first})
    config = config_file(tmp_path, openbao, prefix)
    monkeypatch.setenv("VAULT_TOKEN", BAO_TOKEN)
    data, metadata = f"secret/data/{prefix}/api_key", f"secret/metadata/{prefix}/api_key"

    # A long TTL: the second read asks nothing.
    fresh = cronos_secrets.SecretsManager(str(config), cache_ttl=3600)
    assert fresh.get_secret("api_key") == first
    asked = len(openbao.requests(f"secret/"))
    assert fresh.get_secret("api_key") == first
    assert len(openbao.requests(f"secret/")) == asked

    # A TTL already past: the version is checked by metadata, the value not read again.
    polled = cronos_secrets.SecretsManager(str(config), cache_ttl=0.001)
    assert polled.get_secret("api_key") == first
    reads, polls = len(openbao.requests(data)), len(openbao.requests(metadata))
    time.sleep(0.01)
    assert polled.get_secret("api_key") == first
    assert len(openbao.requests(data)) == reads
    assert len(openbao.requests(metadata)) == polls + 1

    rotated = subprocess.run(
        [launcher(), "rotate", "api_key", "--yes", "--config", str(config)],
        capture_output=True, text=True, env={**os.environ, "VAULT_TOKEN": BAO_TOKEN},
    )
    assert rotated.returncode == 0, rotated.stderr
    time.sleep(0.01)
    second = polled.get_secret("api_key")
    assert second != first and len(second) >= 32
    assert len(openbao.requests(data)) > reads
    # What the long-TTL manager still serves is the value it read: no request was made.
    assert fresh.get_secret("api_key") == first
    # get_secrets goes through the same cache.
    assert polled.get_secrets(["api_key"]) == {"api_key": second}
