"""The guide's Python lines, as written, against a real OpenBao."""

import subprocess
import sys

from conftest import BAO_TOKEN, planted

# The guide's lines (secrets-management-guide.md, "Python Usage" and "ALWAYS Do This"), with
# only the import added, this server's address and token, and a value long enough for the
# required-secrets table's 32 characters (the guide's own 'new-api-key' is refused below).
GUIDE = """
from cronos_secrets import get_secrets_manager, get_secret
secrets_manager = get_secrets_manager({{'backend': 'vault', 'vault_addr': '{address}', 'vault_token': '{token}'}})
db_password = secrets_manager.get_secret('database_password')
secrets_manager.set_secret('api_key', '{new_api_key}')
api_key = get_secret('api_key')
assert db_password == '{db_password}', 'database_password'
assert api_key == '{new_api_key}', 'api_key'
"""


def test_the_guides_lines_run_with_only_the_import_added(openbao):
    db_password = planted("db")
    new_api_key = planted("api")
    openbao.put("database_password", {"value": db_password})
    program = GUIDE.format(
        address=openbao.address, token=BAO_TOKEN, db_password=db_password, new_api_key=new_api_key
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    # The value set is what the launcher would read: the same path, the same server.
    assert openbao.requests("secret/data/api_key"), "api_key was written to secret/data/api_key"
    assert db_password not in run.stdout + run.stderr


def test_the_guides_own_short_value_is_refused_and_nothing_is_stored(openbao):
    import cronos_secrets

    manager = cronos_secrets.get_secrets_manager(openbao.settings())
    before = len(openbao.requests("secret/data/api_key"))
    try:
        manager.set_secret("api_key", "new-api-key")
    except cronos_secrets.InvalidValueError as error:
        message = str(error)
    else:
        raise AssertionError("the guide's 11-character api_key was stored")
    assert "api_key: the new value of API key is too short: 11 characters, at least 32 required" in message
    assert "hint: generate one with: cronos-secrets generate" in message
    assert "new-api-key" not in message
    assert len(openbao.requests("secret/data/api_key")) == before, "a request reached the server"


def test_a_reference_is_read_as_the_launcher_reads_it(openbao):
    import cronos_secrets

    value = planted("ref")
    openbao.put("app/config", {"password": value, "user": "app"})
    manager = cronos_secrets.get_secrets_manager(openbao.settings())
    assert manager.get_secret("vault://secret/app/config#password") == value
    assert manager.get_secret("vault://secret/app/config#user") == "app"


def test_vault_path_and_mount_point_are_the_guides_keys(openbao):
    import cronos_secrets

    value = planted("jwt")
    openbao.put("cronos-ai/production/jwt_secret", {"value": value})
    manager = cronos_secrets.get_secrets_manager(
        openbao.settings(vault_mount_point="secret", vault_path="cronos-ai/production")
    )
    assert manager.get_secret("jwt_secret") == value


def test_a_yaml_config_path_and_the_launchers_own_lookup(openbao, tmp_path, monkeypatch):
    import cronos_secrets

    value = planted("yaml")
    openbao.put("from_yaml", {"value": value})
    config = tmp_path / "config" / "cronos_ai.production.yaml"
    config.parent.mkdir()
    config.write_text(
        f"secrets_manager:\n  enabled: true\n  backend: vault\n  vault_addr: \"${{VAULT_ADDR}}\"\n"
        f"  vault_token: \"${{VAULT_TOKEN}}\"\n"
    )
    monkeypatch.setenv("VAULT_ADDR", openbao.address)
    monkeypatch.setenv("VAULT_TOKEN", BAO_TOKEN)
    assert cronos_secrets.SecretsManager(str(config)).get_secret("from_yaml") == value
    # No config given: found as the launcher finds it (config/cronos_ai.production.yaml).
    assert cronos_secrets.get_secret("from_yaml") == value
