"""One exception hierarchy, with the launcher's messages and hints, and never a value: not in
repr, exceptions, tracebacks or logs (audit events included)."""

import logging
import traceback

import pytest

import cronos_secrets
from cronos_secrets import (
    AccessDeniedError,
    BackendUnavailableError,
    ConfigError,
    InvalidValueError,
    SecretNotFoundError,
    SecretsError,
)
from conftest import BAO_TOKEN, planted


def test_every_error_is_a_secrets_error():
    for kind in (SecretNotFoundError, AccessDeniedError, InvalidValueError,
                 BackendUnavailableError, ConfigError):
        assert issubclass(kind, SecretsError)
    assert issubclass(SecretsError, Exception)


def raised(call):
    with pytest.raises(SecretsError) as caught:
        call()
    return caught


def test_a_missing_secret_names_it_and_says_how_to_store_it(openbao):
    manager = cronos_secrets.get_secrets_manager(openbao.settings())
    caught = raised(lambda: manager.get_secret("never_stored"))
    assert caught.type is SecretNotFoundError
    assert str(caught.value).startswith("secret://never_stored: not found: secret/data/never_stored")
    assert "hint: store it with: bao kv put -mount=secret never_stored" in str(caught.value)


def test_a_refused_token_is_access_denied_with_the_policy_to_add(openbao):
    openbao.put("guarded", {"value": planted("guarded")})
    manager = cronos_secrets.get_secrets_manager(openbao.settings(vault_token="not-a-token"))
    caught = raised(lambda: manager.get_secret("guarded"))
    assert caught.type is AccessDeniedError
    assert 'hint: add to the policy: path "secret/data/guarded"' in str(caught.value)


def test_an_unreachable_backend_is_unavailable_within_the_timeout():
    manager = cronos_secrets.get_secrets_manager(
        {"backend": "vault", "vault_addr": "http://127.0.0.1:9", "vault_token": "t"}, timeout=1
    )
    caught = raised(lambda: manager.get_secret("anything"))
    assert caught.type is BackendUnavailableError
    assert "cannot reach Vault at http://127.0.0.1:9/" in str(caught.value)
    assert "hint:" in str(caught.value)


def test_a_typo_in_the_dict_is_a_config_error_with_did_you_mean():
    caught = raised(lambda: cronos_secrets.get_secrets_manager({"backend": "vault", "vault_adr": "x"}))
    assert caught.type is ConfigError
    assert str(caught.value) == (
        'get_secrets_manager(config): secrets_manager.vault_adr: unknown key "vault_adr"\n'
        '  hint: did you mean "vault_addr"?'
    )
    caught = raised(lambda: cronos_secrets.get_secrets_manager({"backend": "vualt"}))
    assert caught.type is ConfigError
    caught = raised(lambda: cronos_secrets.get_secrets_manager(42))
    assert caught.type is ConfigError
    caught = raised(lambda: cronos_secrets.get_secrets_manager({"backend": "env"}, timeout=0))
    assert caught.type is ConfigError


def test_a_bad_reference_is_a_config_error():
    manager = cronos_secrets.get_secrets_manager({"backend": "env"})
    caught = raised(lambda: manager.get_secret("vault://"))
    assert caught.type is ConfigError
    assert str(caught.value).startswith("vault://: ")


def test_binary_values_need_as_bytes(monkeypatch, tmp_path):
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00binary")
    manager = cronos_secrets.get_secrets_manager({"backend": "env"})
    reference = f"file://{binary}"
    assert manager.get_secret(reference, as_bytes=True) == b"\xff\xfe\x00binary"
    caught = raised(lambda: manager.get_secret(reference))
    assert caught.type is InvalidValueError
    assert "hint: read a binary secret with as_bytes=True" in str(caught.value)
    caught = raised(lambda: manager.set_secret("api_key", 12345))
    assert caught.type is InvalidValueError


def test_no_planted_value_in_repr_exceptions_tracebacks_or_logs(openbao, caplog):
    stored = planted("stored")
    token = f"hvs.{planted('token')}"
    short = "PLANTED-short"
    openbao.put("hygiene", {"value": stored})
    caplog.set_level(logging.DEBUG)
    manager = cronos_secrets.get_secrets_manager(openbao.settings(), cache_ttl=60)
    seen = [repr(manager), str(manager)]
    assert manager.get_secret("hygiene") == stored
    seen.append(repr(manager.describe("hygiene")))
    seen.append(repr(manager.get_secrets(["hygiene"]).keys()))
    # Failures holding the planted values as arguments: a refused write, a bad token.
    failures = [
        lambda: manager.set_secret("api_key", short),
        lambda: manager.set_secret("api_key", stored + "\x00"),
        lambda: cronos_secrets.get_secrets_manager(openbao.settings(vault_token=token)).get_secret("hygiene"),
        lambda: cronos_secrets.get_secrets_manager({"backend": "vault", "vault_token": token, "vault_kv_version": token}),
        lambda: cronos_secrets.get_secrets_manager({"backend": "vault", "vault_token": token, "vault_addr": 7}).get_secret("x"),
    ]
    for failure in failures:
        try:
            failure()
        except SecretsError as error:
            seen.extend([str(error), repr(error), traceback.format_exc()])
        else:
            raise AssertionError("expected a failure")
    seen.extend(record.getMessage() for record in caplog.records)
    assert any("secret read" in record.getMessage() for record in caplog.records)
    text = "\n".join(seen)
    for value in (stored, token, short):
        assert value not in text


def test_audit_events_go_to_the_audit_logger_with_names_and_versions(openbao, caplog):
    value = planted("audited")
    version = openbao.put("audited", {"value": value})
    caplog.set_level(logging.INFO, logger="cronos_secrets.audit")
    manager = cronos_secrets.get_secrets_manager(openbao.settings())
    manager.get_secret("audited")
    manager.set_secret("audited", planted("next"))
    events = [r for r in caplog.records if r.name == "cronos_secrets.audit"]
    assert [e.getMessage().split(":")[0] for e in events] == ["secret read", "secret written"]
    assert f"reference=secret://audited source=vault location=secret/audited#value version={version}" in events[0].getMessage()
    assert f"version={version + 1}" in events[1].getMessage()
    assert all(value not in e.getMessage() for e in events)
