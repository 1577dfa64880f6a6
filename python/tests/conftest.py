"""The real servers the Rust tests start (tests/common/{openbao,moto,azure}.rs), started the
same way, once per pytest run, on free 127.0.0.1 ports: OpenBao's `bao server -dev`, moto's
Secrets Manager behind tests/common/moto_counting.py, and the Key Vault fake
tests/common/azure_fake.py with a test CA made by the openssl CLI."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMON = ROOT / "tests" / "common"
BAO_TOKEN = "root-token-for-tests"
AWS_REGION = "us-east-1"
AZURE_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def planted(label="value"):
    """A value to plant: random, long enough for every table entry, easy to grep for."""
    return f"PLANTED-{label}-{secrets.token_urlsafe(32)}"


def free_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def free_port_pair():
    """OpenBao's dev mode listens on PORT and its cluster listener on PORT+1."""
    while True:
        port = free_port()
        with socket.socket() as second:
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


class Server:
    """A child process with its log in a temporary directory, stopped at the end of the run."""

    def __init__(self, name, args, directory, env=None):
        self.name = name
        self.log = Path(directory) / f"{name}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, cwd=directory, env=env
            )

    def wait_until(self, ready, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if ready():
                return
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"{self.name} did not start:\n{self.log.read_text(errors='replace')}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def http(method, url, body=None, headers=None, context=None):
    """One request: (status, parsed JSON body or text)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


class OpenBao:
    def __init__(self, directory):
        self.dir = Path(directory)
        port = free_port_pair()
        self.address = f"http://127.0.0.1:{port}"
        self.audit_log = self.dir / "audit.log"
        config = self.dir / "config.hcl"
        config.write_text(
            f'audit "file" "requests" {{\n  options {{\n    file_path = "{self.audit_log}"\n  }}\n}}\n'
        )
        self.server = Server(
            "openbao",
            [
                "bao",
                "server",
                "-dev",
                f"-dev-listen-address=127.0.0.1:{port}",
                f"-dev-root-token-id={BAO_TOKEN}",
                f"-config={config}",
            ],
            directory,
        )
        self.server.wait_until(self._ready, 30)

    def _ready(self):
        try:
            status, _ = http("GET", f"{self.address}/v1/sys/health")
        except OSError:
            return False
        return status == 200 and self.audit_log.exists()

    def put(self, path, data, mount="secret"):
        """`bao kv put`, over the HTTP API (a value never in argv); returns the new version."""
        status, answer = http(
            "POST",
            f"{self.address}/v1/{mount}/data/{path}",
            {"data": data},
            {"X-Vault-Token": BAO_TOKEN},
        )
        assert status == 200, answer
        return answer["data"]["version"]

    def requests(self, prefix):
        """Paths of the requests the server saw starting with `prefix`, in order."""
        seen = []
        for line in self.audit_log.read_text().splitlines():
            entry = json.loads(line)
            if entry.get("type") == "request":
                path = entry["request"]["path"]
                if path.startswith(prefix):
                    seen.append(path)
        return seen

    def settings(self, **more):
        """The guide's dict, for this server."""
        return {"backend": "vault", "vault_addr": self.address, "vault_token": BAO_TOKEN, **more}


class Moto:
    def __init__(self, directory):
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.server = Server(
            "moto",
            [sys.executable, str(COMMON / "moto_counting.py"), "--port", str(port)],
            directory,
        )
        self.server.wait_until(self._ready, 60)

    def _ready(self):
        try:
            return http("GET", f"{self.endpoint}/_counts/ready")[0] == 200
        except OSError:
            return False

    def call(self, action, body):
        status, answer = http(
            "POST",
            self.endpoint + "/",
            body,
            {
                "X-Amz-Target": f"secretsmanager.{action}",
                "Content-Type": "application/x-amz-json-1.1",
                "Authorization": f"AWS4-HMAC-SHA256 Credential=SEEDER/20250101/{AWS_REGION}/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
            },
        )
        assert status == 200, f"{action}: {answer}"
        return answer

    def create(self, name, value):
        return self.call("CreateSecret", {"Name": name, "SecretString": value})["ARN"]

    def counts(self, access_key):
        return http("GET", f"{self.endpoint}/_counts/{access_key}")[1]


class AzureFake:
    def __init__(self, directory):
        directory = Path(directory)
        self.ca = directory / "ca.pem"
        cert, key = directory / "server.pem", directory / "server.key"
        openssl = lambda *args: subprocess.run(  # noqa: E731
            ["openssl", *args], cwd=directory, check=True, capture_output=True
        )
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=cronos-secrets test CA", "-keyout", "ca.key", "-out", "ca.pem",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=cronos-secrets test server",
                "-keyout", "server.key", "-out", "server.csr")
        (directory / "server.ext").write_text(
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
            "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        )
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-out", "server.pem", "-extfile", "server.ext")
        vault_port, login_port, self.admin_port = free_port(), free_port(), free_port()
        self.vault = f"https://127.0.0.1:{vault_port}"
        self.authority = f"https://127.0.0.1:{login_port}"
        self.plain = f"http://127.0.0.1:{self.admin_port}"
        self.server = Server(
            "azure-fake",
            [sys.executable, "-u", str(COMMON / "azure_fake.py"), "--cert", str(cert),
             "--key", str(key), "--vault-ports", str(vault_port), "--login-port",
             str(login_port), "--admin-port", str(self.admin_port)],
            directory,
        )
        self.server.wait_until(lambda: self._try_admin("ready", {}) is not None, 30)

    def _try_admin(self, action, body):
        try:
            status, answer = http("POST", f"{self.plain}/_admin/{action}", body,
                                  {"Content-Type": "application/json"})
        except OSError:
            return None
        return answer if status == 200 else None

    def admin(self, action, body):
        answer = self._try_admin(action, body)
        assert answer is not None, f"{action} failed"
        return answer

    def plant(self, name, value):
        host = self.vault.removeprefix("https://")
        return self.admin("plant", {"vault": host, "name": name, "value": value, "attributes": {}})["version"]

    def credentials(self, monkeypatch, client_id):
        """A client-secret credential the fake knows, in the environment a manager captures."""
        secret = f"client-secret-of-{client_id}"
        self.admin("client", {"client_id": client_id, "client_secret": secret})
        for name, value in {
            "SSL_CERT_FILE": str(self.ca),
            "AZURE_AUTHORITY_HOST": self.authority,
            "AZURE_POD_IDENTITY_AUTHORITY_HOST": self.plain,
            "AZURE_TENANT_ID": AZURE_TENANT,
            "AZURE_CLIENT_ID": client_id,
            "AZURE_CLIENT_SECRET": secret,
        }.items():
            monkeypatch.setenv(name, value)

    def settings(self):
        return {
            "backend": "azure_key_vault",
            "azure_vault_url": self.vault + "/",
            # The fake is 127.0.0.1, not *.vault.azure.net.
            "azure_verify_challenge_resource": False,
        }


@pytest.fixture(scope="session")
def server_dir():
    directory = tempfile.mkdtemp(prefix="cronos-secrets-pytest-")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def _started(factory, server_dir, name):
    directory = Path(server_dir) / name
    directory.mkdir()
    server = factory(directory)
    return server


@pytest.fixture(scope="session")
def openbao(server_dir):
    bao = _started(OpenBao, server_dir, "openbao")
    yield bao
    bao.server.stop()


@pytest.fixture(scope="session")
def moto(server_dir):
    server = _started(Moto, server_dir, "moto")
    yield server
    server.server.stop()


@pytest.fixture(scope="session")
def azure(server_dir):
    fake = _started(AzureFake, server_dir, "azure")
    yield fake
    fake.server.stop()


@pytest.fixture
def aws_credentials(monkeypatch, moto):
    """Credentials of this test's own (moto counts calls per access key id)."""
    key = "AKIA" + secrets.token_hex(8).upper()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
    monkeypatch.setenv("AWS_REGION", AWS_REGION)
    return key


@pytest.fixture(autouse=True)
def no_launcher_config(monkeypatch, tmp_path):
    """Each test starts with no config found by the launcher's rules and no default manager."""
    import cronos_secrets

    monkeypatch.delenv("CRONOS_SECRETS_CONFIG", raising=False)
    for name in list(os.environ):
        if name.startswith("CRONOS_SECRETS_") or name.startswith("VAULT_") or name.startswith("BAO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cronos_secrets, "_default", None)
