"""A manager keeps its backends across calls: one Vault login, one Key Vault token, one
connection pool for any number of reads, from threads and asyncio tasks alike; a login that
nears its expiry is done again, not used until it fails."""

import asyncio
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import cronos_secrets
from conftest import BAO_TOKEN, http, planted


def approle(openbao, monkeypatch, token_ttl):
    """An AppRole login of its own (its own auth mount, so logins are counted per test) that
    may read secret/data/*, with tokens living `token_ttl`; its ids in the environment."""
    mount = f"approle-{secrets.token_hex(4)}"
    root = {"X-Vault-Token": BAO_TOKEN}

    def call(method, path, body=None):
        status, answer = http(method, f"{openbao.address}/v1/{path}", body, root)
        assert status in (200, 204), f"{path}: {answer}"
        return answer

    call("POST", f"sys/auth/{mount}", {"type": "approle"})
    call("POST", "sys/policies/acl/kept-read",
         {"policy": 'path "secret/data/*" { capabilities = ["read"] }'})
    call("POST", f"auth/{mount}/role/py", {"token_policies": "kept-read", "token_ttl": token_ttl,
                                          "token_max_ttl": "1h"})
    role_id = call("GET", f"auth/{mount}/role/py/role-id")["data"]["role_id"]
    secret_id = call("POST", f"auth/{mount}/role/py/secret-id")["data"]["secret_id"]
    monkeypatch.setenv("VAULT_ROLE_ID", role_id)
    monkeypatch.setenv("VAULT_SECRET_ID", secret_id)
    return mount


def approle_manager(openbao, mount):
    return cronos_secrets.get_secrets_manager({
        "backend": "vault",
        "vault_addr": openbao.address,
        "vault_auth": {"method": "approle", "mount": mount},
    })


def planted_secrets(openbao, count):
    values = {f"kept_{secrets.token_hex(3)}": planted(f"k{n}") for n in range(count)}
    for name, value in values.items():
        openbao.put(name, {"value": value})
    return values


def test_ten_reads_log_in_once(openbao, monkeypatch):
    mount = approle(openbao, monkeypatch, "1h")
    values = planted_secrets(openbao, 2)
    manager = approle_manager(openbao, mount)
    names = list(values) * 5
    assert [manager.get_secret(name) for name in names] == [values[name] for name in names]
    assert manager.get_secrets(list(values)) == values
    assert len(openbao.requests(f"auth/{mount}/login")) == 1
    # Each read is still one request, as the launcher's (besides the one write planting each).
    assert sum(len(openbao.requests(f"secret/data/{name}")) for name in values) == 12 + 2


def test_threads_and_tasks_share_one_login(openbao, monkeypatch):
    mount = approle(openbao, monkeypatch, "1h")
    values = planted_secrets(openbao, 3)
    manager = approle_manager(openbao, mount)
    names = list(values) * 8
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(manager.get_secret, names)) == [values[name] for name in names]

    async def main():
        return await asyncio.gather(*(manager.get_secret_async(name) for name in names))

    assert asyncio.run(main()) == [values[name] for name in names]
    assert len(openbao.requests(f"auth/{mount}/login")) == 1


def test_a_login_near_its_expiry_is_done_again(openbao, monkeypatch):
    # Tokens of 3 s: the manager logs in again once two thirds of that are gone, so a read
    # after the first token has expired still succeeds (with the old one it is refused).
    mount = approle(openbao, monkeypatch, "3s")
    values = planted_secrets(openbao, 1)
    [(name, value)] = values.items()
    manager = approle_manager(openbao, mount)
    assert manager.get_secret(name) == value
    time.sleep(3.5)
    assert manager.get_secret(name) == value
    assert len(openbao.requests(f"auth/{mount}/login")) == 2


def test_a_configured_token_is_looked_up_at_most_once_more(openbao):
    # A configured token is checked (and renewed once half its TTL is gone) on reuse, no more
    # than once per ten minutes: not a request per read.
    values = planted_secrets(openbao, 1)
    [(name, value)] = values.items()
    manager = cronos_secrets.get_secrets_manager(openbao.settings())
    before = len(openbao.requests("auth/token/lookup-self"))
    for _ in range(10):
        assert manager.get_secret(name) == value
    assert len(openbao.requests(f"secret/data/{name}")) == 10 + 1  # and the write planting it
    assert len(openbao.requests("auth/token/lookup-self")) - before <= 1


def test_a_configured_token_is_renewed_across_calls(openbao):
    # A renewable token of 4 s: reused, it is looked up, and renewed once half its TTL is gone,
    # so a read after its first expiry still succeeds. Other managers' tokens (the root token
    # of the other tests, checked ten minutes apart) do not hold its check back.
    root = {"X-Vault-Token": BAO_TOKEN}
    status, _ = http("POST", f"{openbao.address}/v1/sys/policies/acl/kept-read",
                     {"policy": 'path "secret/data/*" { capabilities = ["read"] }'}, root)
    assert status in (200, 204)
    status, answer = http("POST", f"{openbao.address}/v1/auth/token/create",
                          {"ttl": "4s", "renewable": True, "policies": ["kept-read"]}, root)
    assert status == 200, answer
    token = answer["auth"]["client_token"]
    values = planted_secrets(openbao, 1)
    [(name, value)] = values.items()
    manager = cronos_secrets.get_secrets_manager(
        {"backend": "vault", "vault_addr": openbao.address, "vault_token": token})
    before = len(openbao.requests("auth/token/renew-self"))
    assert manager.get_secret(name) == value
    assert manager.get_secret(name) == value
    time.sleep(2.5)
    assert manager.get_secret(name) == value
    time.sleep(2.5)
    assert manager.get_secret(name) == value
    assert len(openbao.requests("auth/token/renew-self")) > before


def test_a_failed_login_is_not_kept(openbao, monkeypatch):
    mount = approle(openbao, monkeypatch, "1h")
    values = planted_secrets(openbao, 1)
    [(name, value)] = values.items()
    good = os.environ["VAULT_SECRET_ID"]
    monkeypatch.setenv("VAULT_SECRET_ID", "not-the-secret-id")
    broken = approle_manager(openbao, mount)
    try:
        broken.get_secret(name)
        raise AssertionError("a wrong secret_id was accepted")
    except cronos_secrets.AccessDeniedError:
        pass
    # The next call logs in again (here, again refused), instead of reusing the failure.
    try:
        broken.get_secret(name)
    except cronos_secrets.AccessDeniedError:
        pass
    assert len(openbao.requests(f"auth/{mount}/login")) == 2
    monkeypatch.setenv("VAULT_SECRET_ID", good)
    assert approle_manager(openbao, mount).get_secret(name) == value


def test_key_vault_token_requested_once(azure, monkeypatch):
    azure.credentials(monkeypatch, f"client-{secrets.token_hex(4)}")
    name = f"kept-{secrets.token_hex(4)}"
    value = planted("azure-kept")
    azure.plant(name, value)
    manager = cronos_secrets.get_secrets_manager(azure.settings())
    azure.admin("reset-counts", {})
    for _ in range(10):
        assert manager.get_secret(name) == value
    counts = azure.admin("counts", {})
    assert counts.get("token") == 1
    assert counts.get("challenge") == 1
    assert counts.get("get") == 10


def credential_process(tmp_path, monkeypatch, access_key, lifetime_s):
    """An AWS profile whose credentials come from a `credential_process` that records each run
    and hands out temporary credentials living `lifetime_s` seconds."""
    runs = tmp_path / "runs"
    script = tmp_path / "credentials.sh"
    script.write_text(
        "#!/bin/sh\n"
        f"echo run >> {runs}\n"
        f"expires=$(date -u -d '+{lifetime_s} seconds' +%Y-%m-%dT%H:%M:%SZ)\n"
        f"printf '{{\"Version\": 1, \"AccessKeyId\": \"{access_key}\", "
        "\"SecretAccessKey\": \"fake-secret\", \"SessionToken\": \"fake-session\", "
        "\"Expiration\": \"%s\"}' \"$expires\"\n"
    )
    script.chmod(0o700)
    config = tmp_path / "aws-config"
    config.write_text(f"[profile kept]\ncredential_process = {script}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_PROFILE", "kept")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return runs


def aws_manager(moto):
    return cronos_secrets.get_secrets_manager({
        "backend": "aws_secrets_manager",
        "aws_region": "us-east-1",
        "aws_endpoint_url": moto.endpoint,
    })


def test_aws_credentials_resolved_once_for_ten_reads(moto, monkeypatch, tmp_path):
    key = "AKIA" + secrets.token_hex(8).upper()
    runs = credential_process(tmp_path, monkeypatch, key, 3600)
    name, value = f"kept-{secrets.token_hex(4)}", planted("aws-kept")
    moto.create(name, value)
    manager = aws_manager(moto)
    for _ in range(10):
        assert manager.get_secret(f"aws-sm://{name}") == value
    assert runs.read_text().count("run") == 1
    assert sum(moto.counts(key).values()) == 10


def test_aws_credentials_near_their_expiry_are_resolved_again(moto, monkeypatch, tmp_path):
    key = "AKIA" + secrets.token_hex(8).upper()
    runs = credential_process(tmp_path, monkeypatch, key, 3)
    name, value = f"kept-{secrets.token_hex(4)}", planted("aws-expiring")
    moto.create(name, value)
    manager = aws_manager(moto)
    assert manager.get_secret(f"aws-sm://{name}") == value
    time.sleep(3.5)
    assert manager.get_secret(f"aws-sm://{name}") == value
    assert runs.read_text().count("run") == 2
