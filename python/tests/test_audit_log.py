"""`audit_log=`: a manager's audit events appended to a file as the launcher's `--audit-log`
writes them (JSON lines, names, references and versions, never a value), besides `logging`."""

import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

import cronos_secrets
from conftest import planted


def events(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_reads_and_writes_are_recorded_never_a_value(openbao, tmp_path):
    first, second, new = planted("audited-1"), planted("audited-2"), planted("audited-new")
    version = openbao.put("audited_one", {"value": first})
    openbao.put("audited_two", {"value": second})
    audit_log = tmp_path / "audit.jsonl"
    manager = cronos_secrets.get_secrets_manager(openbao.settings(), audit_log=audit_log)
    assert manager.get_secret("audited_one") == first
    assert manager.get_secrets(["audited_one", "audited_two"]) == {
        "audited_one": first, "audited_two": second}
    written = manager.set_secret("audited_two", new)
    recorded = events(audit_log)
    assert [event["fields"]["message"] for event in recorded] == [
        "secret read", "secret read", "secret read", "secret written"]
    assert all(event["target"] == "cronos_secrets::audit" for event in recorded)
    assert recorded[0]["fields"]["reference"] == "secret://audited_one"
    assert recorded[0]["fields"]["version"] == str(version)
    assert recorded[3]["fields"]["version"] == written.version
    text = audit_log.read_text()
    for value in (first, second, new):
        assert value not in text
    assert stat.S_IMODE(os.stat(audit_log).st_mode) == 0o600


def test_each_manager_writes_its_own_file_from_any_thread(openbao, tmp_path):
    value = planted("threads")
    openbao.put("audited_threads", {"value": value})
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first = cronos_secrets.get_secrets_manager(openbao.settings(), audit_log=one)
    second = cronos_secrets.get_secrets_manager(openbao.settings(), audit_log=two)
    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(lambda _: first.get_secret("audited_threads"), range(8))) == {value}
    assert second.get_secret("audited_threads") == value
    assert len(events(one)) == 8
    assert len(events(two)) == 1
    # A manager without a file writes none, and its events still reach `logging`.
    plain = cronos_secrets.get_secrets_manager(openbao.settings())
    assert plain.get_secret("audited_threads") == value
    assert len(events(one)) == 8 and len(events(two)) == 1


def test_an_audit_log_through_a_symlink_is_refused(openbao, tmp_path):
    target = tmp_path / "elsewhere.jsonl"
    target.write_text("")
    link = tmp_path / "audit.jsonl"
    link.symlink_to(target)
    with pytest.raises(cronos_secrets.ConfigError) as raised:
        cronos_secrets.get_secrets_manager(openbao.settings(), audit_log=link)
    assert "symbolic link" in str(raised.value)
    assert "hint:" in str(raised.value)


def test_a_read_does_not_import_logging_for_nobody(openbao, tmp_path):
    # Unconfigured, `logging` drops audit events (INFO): a program that never imported it gets
    # no 5 ms import on its first read, and its audit file is still written.
    value = planted("no-logging")
    openbao.put("audited_quiet", {"value": value})
    audit_log = tmp_path / "quiet.jsonl"
    program = (
        "import sys, cronos_secrets\n"
        f"m = cronos_secrets.get_secrets_manager({openbao.settings()!r}, audit_log={str(audit_log)!r})\n"
        f"assert m.get_secret('audited_quiet') == {value!r}\n"
        "print('logging' in sys.modules)\n"
    )
    ran = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         check=True)
    assert ran.stdout.strip() == "False"
    assert [event["fields"]["message"] for event in events(audit_log)] == ["secret read"]


def test_the_configs_audit_log_is_used_when_no_keyword_names_one(openbao, tmp_path):
    value = planted("config-audit")
    openbao.put("audited_by_config", {"value": value})
    audit_log = tmp_path / "from-config.jsonl"
    settings = dict(openbao.settings(), audit_log=str(audit_log))
    manager = cronos_secrets.get_secrets_manager(settings)
    assert manager.get_secret("audited_by_config") == value
    recorded = events(audit_log)
    assert [event["fields"]["reference"] for event in recorded] == [
        "secret://audited_by_config"]
    assert value not in audit_log.read_text()
    # The keyword wins over the config, as --audit-log does.
    keyword = tmp_path / "keyword.jsonl"
    manager = cronos_secrets.get_secrets_manager(settings, audit_log=keyword)
    assert manager.get_secret("audited_by_config") == value
    assert len(events(keyword)) == 1 and len(events(audit_log)) == 1
