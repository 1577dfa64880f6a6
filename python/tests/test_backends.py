"""get_secrets (the launcher's one batch), describe, and every backend the Rust tests use:
OpenBao, AWS Secrets Manager on moto, Azure Key Vault on the fake."""

import secrets
from datetime import datetime, timezone

import cronos_secrets
from conftest import planted

FIVE = ["database_password", "redis_password", "jwt_secret", "encryption_key", "api_key"]


def test_get_secrets_reads_each_path_once_in_one_batch(openbao):
    values = {name: planted(name) for name in FIVE}
    prefix = f"batch{secrets.token_hex(4)}"
    for name, value in values.items():
        openbao.put(f"{prefix}/{name}", {"value": value})
    manager = cronos_secrets.get_secrets_manager(openbao.settings(vault_path=prefix))
    before = len(openbao.requests(f"secret/data/{prefix}/"))
    # A name twice is read once, as the launcher reads a reference two variables share.
    assert manager.get_secrets(FIVE + ["api_key"]) == values
    assert len(openbao.requests(f"secret/data/{prefix}/")) - before == 5


def test_describe_gives_the_version_and_times_never_the_value(openbao):
    value = planted("described")
    openbao.put("described", {"value": value})
    version = openbao.put("described", {"value": planted("described-2")})
    manager = cronos_secrets.get_secrets_manager(openbao.settings())
    info = manager.describe("described")
    assert info.name == "described"
    assert info.version == str(version)
    assert info.created.tzinfo is timezone.utc
    assert abs((datetime.now(timezone.utc) - info.created).total_seconds()) < 3600
    assert info.expires is None
    assert value not in repr(info)


def test_aws_secrets_manager_on_moto_in_one_batch_call(moto, aws_credentials):
    prefix = f"py-{secrets.token_hex(4)}"
    values = {name: planted(name) for name in FIVE}
    for name, value in values.items():
        moto.create(f"{prefix}/{name}", value)
    manager = cronos_secrets.get_secrets_manager({
        "backend": "aws_secrets_manager",
        "aws_region": "us-east-1",
        "aws_endpoint_url": moto.endpoint,
        "aws_prefix": prefix,
    })
    assert manager.get_secrets(FIVE) == values
    # The launcher's request count for five secrets: one BatchGetSecretValue.
    assert moto.counts(aws_credentials) == {"BatchGetSecretValue": 1}
    arn = moto.create(f"{prefix}/by-arn", "by-arn-value")
    assert manager.get_secret(arn) == "by-arn-value"
    info = manager.describe("api_key")
    assert info.version and values["api_key"] not in repr(info)


def test_azure_key_vault_on_the_fake(azure, monkeypatch):
    azure.credentials(monkeypatch, f"client-{secrets.token_hex(4)}")
    name = f"py-{secrets.token_hex(4)}"
    value = planted("azure")
    version = azure.plant(name, value)
    manager = cronos_secrets.get_secrets_manager(azure.settings())
    # Key Vault names have dashes where the table's names have underscores.
    assert manager.get_secret(f"azure-kv://{azure.vault.removeprefix('https://')}/{name}") == value
    assert manager.get_secret(name) == value
    assert manager.describe(name).version == version
    new = planted("azure-new")
    written = manager.set_secret(name, new)
    assert written.version and written.version != version
    assert manager.get_secret(name) == new
