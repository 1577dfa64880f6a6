"""The Python API against the peers a CRONOS AI program would use instead, side by side in one
run, on the guide's five secrets: hvac on OpenBao, boto3 (and aws-secretsmanager-caching) on
moto, azure-keyvault-secrets on the in-repo Key Vault fake. The servers are started by
python/tests/conftest.py's classes, as the pytest suite starts them (127.0.0.1, free ports).

    bash bench/python.sh        # installs the peers and the release wheel into .venv-bench/

Prints a Markdown report (median milliseconds over RUNS, default 30) for bench/README.md."""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python" / "tests"))
import conftest as servers  # noqa: E402  (the suite's server classes, reused)

RUNS = int(os.environ.get("RUNS", "30"))
FIVE = ["database_password", "redis_password", "jwt_secret", "encryption_key", "api_key"]
VALUES = {name: f"bench-{name}-{'x' * 40}" for name in FIVE}


def median_ms(function, runs=RUNS):
    for _ in range(3):
        function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def cold_ms(program, runs=RUNS):
    """A fresh interpreter running `program` (import, client, reads), wall time."""
    def run():
        subprocess.run([sys.executable, "-c", program], check=True)
    return median_ms(run, runs)


class Env:
    """What conftest's fixtures get from pytest's monkeypatch: setting the environment."""

    @staticmethod
    def setenv(name, value):
        os.environ[name] = value


def main():
    import cronos_secrets

    work = Path(tempfile.mkdtemp(prefix="cronos-secrets-bench-"))
    for name in ("openbao", "moto", "azure"):
        (work / name).mkdir()
    bao = servers.OpenBao(work / "openbao")
    moto = servers.Moto(work / "moto")
    azure = servers.AzureFake(work / "azure")
    try:
        for name, value in VALUES.items():
            bao.put(f"cronos-ai/production/{name}", {"value": value})
            moto.create(f"cronos-ai/{name}", value)
            azure.plant(name.replace("_", "-"), value)
        os.environ.update(
            AWS_ACCESS_KEY_ID="AKIABENCHPYTHON", AWS_SECRET_ACCESS_KEY="bench",
            AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
        )
        azure.credentials(Env, "client-bench")
        rows = []
        rows += vault_rows(cronos_secrets, bao)
        rows += aws_rows(cronos_secrets, moto)
        rows += azure_rows(cronos_secrets, azure)
        print_report(rows)
    finally:
        for server in (bao.server, moto.server, azure.server):
            server.stop()


def vault_rows(cronos_secrets, bao):
    import hvac

    settings = bao.settings(vault_path="cronos-ai/production")
    ours = cronos_secrets.get_secrets_manager(settings)
    client = hvac.Client(url=bao.address, token=servers.BAO_TOKEN)

    def hvac_five():
        for name in FIVE:
            client.secrets.kv.v2.read_secret_version(
                path=f"cronos-ai/production/{name}", mount_point="secret",
                raise_on_deleted_version=True)

    before = len(bao.requests("secret/data/cronos-ai/"))
    ours.get_secrets(FIVE)
    ours_requests = len(bao.requests("secret/data/cronos-ai/")) - before
    before = len(bao.requests("secret/data/cronos-ai/"))
    hvac_five()
    hvac_requests = len(bao.requests("secret/data/cronos-ai/")) - before
    ours_cold = (f"import cronos_secrets as c; c.get_secrets_manager({settings!r})"
                 f".get_secrets({FIVE!r})")
    hvac_cold = (f"import hvac; c = hvac.Client(url={bao.address!r}, token={servers.BAO_TOKEN!r})\n"
                 f"for n in {FIVE!r}: c.secrets.kv.v2.read_secret_version(path='cronos-ai/production/' + n,"
                 " mount_point='secret', raise_on_deleted_version=True)")
    return [
        ("OpenBao", "cronos_secrets `get_secrets` (warm)", median_ms(lambda: ours.get_secrets(FIVE)), ours_requests),
        ("OpenBao", "cronos_secrets 5 × `get_secret` (warm)", median_ms(lambda: [ours.get_secret(n) for n in FIVE]), 5),
        ("OpenBao", "hvac 5 × `read_secret_version` (warm)", median_ms(hvac_five), hvac_requests),
        ("OpenBao", "cronos_secrets cold (import, manager, `get_secrets`)", cold_ms(ours_cold), ours_requests),
        ("OpenBao", "hvac cold (import, client, 5 reads)", cold_ms(hvac_cold), hvac_requests),
    ]


def aws_rows(cronos_secrets, moto):
    import boto3
    from aws_secretsmanager_caching import SecretCache, SecretCacheConfig

    settings = {"backend": "aws_secrets_manager", "aws_endpoint_url": moto.endpoint,
                "aws_region": "us-east-1"}
    ours = cronos_secrets.get_secrets_manager(settings)
    cached = cronos_secrets.get_secrets_manager(settings, cache_ttl=3600)
    client = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=moto.endpoint)
    cache = SecretCache(config=SecretCacheConfig(), client=client)

    def boto3_five():
        for name in FIVE:
            client.get_secret_value(SecretId=f"cronos-ai/{name}")

    def counted(function):
        key = os.environ["AWS_ACCESS_KEY_ID"]
        before = sum(moto.counts(key).values())
        function()
        return sum(moto.counts(key).values()) - before

    ours_requests = counted(lambda: ours.get_secrets(FIVE))
    boto3_requests = counted(boto3_five)
    ours_cold = (f"import cronos_secrets as c; c.get_secrets_manager({settings!r})"
                 f".get_secrets({FIVE!r})")
    boto3_cold = (f"import boto3; c = boto3.client('secretsmanager', region_name='us-east-1',"
                  f" endpoint_url={moto.endpoint!r})\n"
                  f"for n in {FIVE!r}: c.get_secret_value(SecretId='cronos-ai/' + n)")
    return [
        ("AWS (moto)", "cronos_secrets `get_secrets` (warm)", median_ms(lambda: ours.get_secrets(FIVE)), ours_requests),
        ("AWS (moto)", "cronos_secrets 5 × `get_secret` (warm)", median_ms(lambda: [ours.get_secret(n) for n in FIVE]), 5),
        ("AWS (moto)", "boto3 5 × `get_secret_value` (warm)", median_ms(boto3_five), boto3_requests),
        ("AWS (moto)", "cronos_secrets `cache_ttl=3600` 5 × `get_secret` (cached)", median_ms(lambda: [cached.get_secret(n) for n in FIVE]), 0),
        ("AWS (moto)", "aws-secretsmanager-caching 5 × `get_secret_string` (cached)", median_ms(lambda: [cache.get_secret_string(f"cronos-ai/{n}") for n in FIVE]), 0),
        ("AWS (moto)", "cronos_secrets cold (import, manager, `get_secrets`)", cold_ms(ours_cold), ours_requests),
        ("AWS (moto)", "boto3 cold (import, client, 5 reads)", cold_ms(boto3_cold), boto3_requests),
    ]


def azure_rows(cronos_secrets, azure):
    from azure.identity import ClientSecretCredential
    from azure.keyvault.secrets import SecretClient

    settings = azure.settings()
    ours = cronos_secrets.get_secrets_manager(settings)
    sdk_setup = (
        "from azure.identity import ClientSecretCredential\n"
        "from azure.keyvault.secrets import SecretClient\n"
        f"credential = ClientSecretCredential({servers.AZURE_TENANT!r}, 'client-bench', "
        f"'client-secret-of-client-bench', authority={azure.authority!r}, "
        f"connection_verify={str(azure.ca)!r}, disable_instance_discovery=True)\n"
        f"client = SecretClient(vault_url={azure.vault!r}, credential=credential, "
        f"verify_challenge_resource=False, connection_verify={str(azure.ca)!r})\n"
    )
    namespace = {}
    exec(sdk_setup, namespace)
    client = namespace["client"]

    def sdk_five():
        for name in FIVE:
            client.get_secret(name.replace("_", "-"))

    ours_cold = (f"import cronos_secrets as c; c.get_secrets_manager({settings!r})"
                 f".get_secrets({FIVE!r})")
    sdk_cold = sdk_setup + f"for n in {FIVE!r}: client.get_secret(n.replace('_', '-'))"
    return [
        ("Key Vault (fake)", "cronos_secrets `get_secrets` (warm)", median_ms(lambda: ours.get_secrets(FIVE)), None),
        ("Key Vault (fake)", "cronos_secrets 5 × `get_secret` (warm)", median_ms(lambda: [ours.get_secret(n) for n in FIVE]), None),
        ("Key Vault (fake)", "azure-keyvault-secrets 5 × `get_secret` (warm)", median_ms(sdk_five), None),
        ("Key Vault (fake)", "cronos_secrets cold (import, manager, `get_secrets`)", cold_ms(ours_cold), None),
        ("Key Vault (fake)", "azure-keyvault-secrets cold (import, credential, client, 5 reads)", cold_ms(sdk_cold), None),
    ]


def print_report(rows):
    imports = [
        ("nothing (`python -c pass`)", "pass"),
        ("`import cronos_secrets`", "import cronos_secrets"),
        ("`import hvac`", "import hvac"),
        ("`import boto3`", "import boto3"),
        ("`from azure.keyvault.secrets import SecretClient`", "from azure.keyvault.secrets import SecretClient"),
    ]
    print(f"RUNS={RUNS}, Python {sys.version.split()[0]}\n")
    print("| Backend | What | Median ms | Requests |\n|---|---|---:|---:|")
    for backend, what, ms, requests in rows:
        print(f"| {backend} | {what} | {ms:.2f} | {'' if requests is None else requests} |")
    print("\n| Import | Median ms (interpreter start included) |\n|---|---:|")
    for label, program in imports:
        print(f"| {label} | {cold_ms(program):.1f} |")


if __name__ == "__main__":
    main()
