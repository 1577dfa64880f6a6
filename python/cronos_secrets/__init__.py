"""The CRONOS AI secrets manager's Python API, as the guide writes it::

    from cronos_secrets import get_secrets_manager, get_secret

    secrets_manager = get_secrets_manager({
        'backend': 'vault',
        'vault_addr': 'http://127.0.0.1:8200',
        'vault_token': 'your-token',
    })
    db_password = secrets_manager.get_secret('database_password')
    secrets_manager.set_secret('api_key', new_api_key)   # validated first: >= 32 characters
    api_key = get_secret('api_key')

Every read, write and check is done by the cronos-secrets Rust library, the same code that
``cronos-secrets run`` resolves a program's environment with: the same config keys, defaults,
references (``vault://``, ``aws-sm://``, ARNs, ``azure-kv://``…), validation, messages and
audit events. Audit events go to the ``logging`` logger ``cronos_secrets.audit`` (names,
references and versions, never a value).
"""

from __future__ import annotations

import os

from . import _native
from ._native import (
    AccessDeniedError,
    BackendUnavailableError,
    ConfigError,
    InvalidValueError,
    SecretNotFoundError,
    SecretsError,
)

__all__ = [
    "AccessDeniedError",
    "BackendUnavailableError",
    "ConfigError",
    "InvalidValueError",
    "SecretInfo",
    "SecretNotFoundError",
    "SecretsError",
    "SecretsManager",
    "get_secret",
    "get_secrets_manager",
]


class SecretInfo:
    """What is known of a secret's current version, never its value."""

    __slots__ = ("name", "version", "created", "expires")

    def __init__(self, name: str, version: str | None, created, expires) -> None:
        self.name = name
        #: The backend's version id (``"7"``, an AWS version id), when it keeps one.
        self.version = version
        #: When this version was written (``datetime`` in UTC), when the backend says.
        self.created = created
        #: When this version stops being valid (Key Vault's expiry), if ever.
        self.expires = expires

    def __repr__(self) -> str:
        return (
            f"SecretInfo(name={self.name!r}, version={self.version!r}, "
            f"created={self.created!r}, expires={self.expires!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretInfo):
            return NotImplemented
        return (self.name, self.version, self.created, self.expires) == (
            other.name,
            other.version,
            other.created,
            other.expires,
        )


def _info(name: str, details) -> SecretInfo:
    version, created, expires = details
    if created is None and expires is None:
        return SecretInfo(name, version, None, None)
    # Imported only when a time is to be shown: `import cronos_secrets` stays fast.
    from datetime import datetime, timezone

    def when(seconds):
        return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)

    return SecretInfo(name, version, when(created), when(expires))


class SecretsManager:
    """Reads and writes secrets in the configured backend, by name or by reference.

    ``config`` is the guide's dict of ``secrets_manager:`` keys (``backend``, ``vault_addr``,
    ``vault_token``, ``vault_mount_point``, ``vault_path``, ``aws_region``,
    ``azure_vault_url``…; settings left out take the launcher's defaults), a path to the YAML
    config, or ``None`` (found as the launcher finds it: ``$CRONOS_SECRETS_CONFIG``, then
    ``config/cronos_ai.$CRONOS_AI_ENV.yaml``). ``timeout`` (seconds) bounds every call, as
    ``--timeout`` does. ``cache_ttl`` (seconds) keeps values in memory; once older than that,
    a value is kept while the backend's metadata shows the same version (no value is read
    again unless it changed). ``audit_log`` (a path) appends this manager's audit events to
    that file as JSON lines, as the launcher's ``--audit-log`` does (names, references and
    versions, never a value), besides the ``logging`` logger ``cronos_secrets.audit``; without
    it, the config's ``audit_log`` (``secrets_manager: audit_log: PATH``) is used, if any.

    One manager is safe to share between threads; the GIL is released while it waits on a
    backend. It keeps its backend login, tokens and connections between calls (one Vault
    login for any number of reads), renewed before they expire.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        config: dict | str | "os.PathLike[str]" | None = None,
        *,
        timeout: float | None = None,
        cache_ttl: float | None = None,
        audit_log: str | "os.PathLike[str]" | None = None,
    ) -> None:
        if audit_log is not None:
            audit_log = os.fspath(audit_log)
        if isinstance(config, dict):
            self._native = _native.NativeManager.from_dict(config, timeout, cache_ttl, audit_log)
        elif config is None:
            self._native = _native.NativeManager.from_path(None, timeout, cache_ttl, audit_log)
        else:
            try:
                path = os.fspath(config)
            except TypeError:
                raise ConfigError(
                    f"get_secrets_manager(config): expected a dict of secrets_manager settings, "
                    f"a path or None, not {type(config).__name__}\n"
                    "  hint: get_secrets_manager({'backend': 'vault', 'vault_addr': ...})"
                ) from None
            self._native = _native.NativeManager.from_path(path, timeout, cache_ttl, audit_log)

    @property
    def backend(self) -> str:
        """The configured backend: ``env``, ``vault``, ``aws_secrets_manager`` or ``azure_key_vault``."""
        return self._native.backend

    @property
    def timeout(self) -> float:
        """The seconds every call may take at most."""
        return self._native.timeout

    @property
    def cache_ttl(self) -> float | None:
        """Seconds a value is served from memory before its version is checked; ``None``: no cache."""
        return self._native.cache_ttl

    def get_secret(self, name: str, *, as_bytes: bool = False) -> str:
        """The value of ``name`` (a name of the required-secrets table, or any reference such
        as ``vault://secret/app#key``, ``aws-sm://NAME``, an ARN). ``as_bytes=True`` returns
        ``bytes`` (for binary secrets).

        Raises a :class:`SecretsError` subclass naming the secret and a hint, never the value.
        """
        return self._native.get([name], as_bytes)[0]

    def get_secrets(self, names, *, as_bytes: bool = False) -> dict:
        """The values of several names or references, read in one batch as ``run`` reads a
        program's environment: each distinct one once, all backends concurrently, under one
        timeout; all or nothing. Returns ``{name: value}``."""
        names = list(names)
        return dict(zip(names, self._native.get(names, as_bytes)))

    def set_secret(self, name: str, value: str | bytes) -> SecretInfo:
        """Stores a new version of ``name``, validated first as ``cronos-secrets set`` does (a
        required secret's minimum length and weak-value rules): a value no launch would accept
        is refused with :class:`InvalidValueError` and nothing is stored."""
        return _info(name, self._native.set(name, value))

    def describe(self, name: str) -> SecretInfo:
        """The current version, creation time and expiry of ``name``; never the value."""
        return _info(name, self._native.describe(name))

    async def get_secret_async(self, name: str, *, as_bytes: bool = False) -> str:
        """:meth:`get_secret` for asyncio programs (runs in a worker thread)."""
        return await _in_thread(self.get_secret, name, as_bytes=as_bytes)

    async def get_secrets_async(self, names, *, as_bytes: bool = False) -> dict:
        """:meth:`get_secrets` for asyncio programs (runs in a worker thread)."""
        return await _in_thread(self.get_secrets, list(names), as_bytes=as_bytes)

    async def set_secret_async(self, name: str, value: str | bytes) -> SecretInfo:
        """:meth:`set_secret` for asyncio programs (runs in a worker thread)."""
        return await _in_thread(self.set_secret, name, value)

    async def describe_async(self, name: str) -> SecretInfo:
        """:meth:`describe` for asyncio programs (runs in a worker thread)."""
        return await _in_thread(self.describe, name)

    def __repr__(self) -> str:
        return f"<cronos_secrets.SecretsManager backend={self.backend} timeout={self.timeout:g}s>"


async def _in_thread(function, *args, **kwargs):
    import asyncio

    return await asyncio.to_thread(function, *args, **kwargs)


_default: SecretsManager | None = None


def get_secrets_manager(
    config: dict | str | "os.PathLike[str]" | None = None,
    *,
    timeout: float | None = None,
    cache_ttl: float | None = None,
    audit_log: str | "os.PathLike[str]" | None = None,
) -> SecretsManager:
    """A :class:`SecretsManager` for ``config`` (see there); it also becomes the manager the
    module-level :func:`get_secret` uses."""
    global _default
    manager = SecretsManager(config, timeout=timeout, cache_ttl=cache_ttl, audit_log=audit_log)
    _default = manager
    return manager


def get_secret(name: str, *, as_bytes: bool = False) -> str:
    """``get_secret('api_key')``, as in the guide: read through the manager last made by
    :func:`get_secrets_manager`, else through one configured as the launcher finds its config."""
    global _default
    manager = _default
    if manager is None:
        manager = _default = SecretsManager()
    return manager.get_secret(name, as_bytes=as_bytes)
