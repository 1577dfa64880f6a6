#!/usr/bin/env python3
"""Microsoft's Python SDK against the fake Key Vault (tests/common/azure_fake.py): set, get,
get by version and list versions (paged) with three credentials. Exits non-zero, with the
SDK's error, if the official client cannot use the fake. Prints "<flow>: ok" per credential;
never prints a value or a token."""

import os
import sys

from azure.identity import (
    ClientSecretCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from azure.keyvault.secrets import SecretClient

VAULT = os.environ["VAULT_URL"]
AUTHORITY = os.environ["AUTHORITY"]
TENANT = os.environ["TENANT"]
CA = os.environ["CA_FILE"]


def exercise(flow, credential):
    client = SecretClient(
        vault_url=VAULT,
        credential=credential,
        verify_challenge_resource=False,
        connection_verify=CA,
    )
    name = "sdk-" + flow.replace("_", "-")
    first = client.set_secret(name, "sdk-first-value")
    second = client.set_secret(name, "sdk-second-value")
    client.set_secret(name, "sdk-third-value")
    assert first.properties.version and first.properties.version != second.properties.version
    latest = client.get_secret(name)
    assert latest.value == "sdk-third-value", "latest"
    assert latest.properties.enabled is True
    assert latest.properties.created_on is not None
    pinned = client.get_secret(name, first.properties.version)
    assert pinned.value == "sdk-first-value", "pinned version"
    # The fake pages two versions at a time: three versions need a nextLink.
    versions = [p.version for p in client.list_properties_of_secret_versions(name)]
    assert sorted(versions) == sorted(
        [first.properties.version, second.properties.version, latest.properties.version]
    ), "versions"
    try:
        client.get_secret("sdk-never-stored")
        raise AssertionError("a missing secret was found")
    except Exception as error:  # ResourceNotFoundError
        assert type(error).__name__ == "ResourceNotFoundError", type(error).__name__
    print(flow + ": ok")


def main():
    common = dict(authority=AUTHORITY, connection_verify=CA, disable_instance_discovery=True)
    exercise(
        "client_secret",
        ClientSecretCredential(TENANT, "client-sdk", "client-secret-of-client-sdk", **common),
    )
    exercise(
        "workload_identity",
        WorkloadIdentityCredential(
            tenant_id=TENANT,
            client_id="client-sdk-wi",
            token_file_path=os.environ["TOKEN_FILE"],
            **common,
        ),
    )
    os.environ["IDENTITY_ENDPOINT"] = os.environ["IDENTITY_ENDPOINT_URL"]
    os.environ["IDENTITY_HEADER"] = "fake-identity-header"
    exercise("app_service", ManagedIdentityCredential())
    return 0


if __name__ == "__main__":
    sys.exit(main())
