"""One manager shared by threads and asyncio tasks; the GIL is released while it waits."""

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cronos_secrets
from conftest import planted


def test_threads_share_one_manager(openbao):
    values = {f"threaded_{n}": planted(f"t{n}") for n in range(4)}
    for name, value in values.items():
        openbao.put(name, {"value": value})
    manager = cronos_secrets.get_secrets_manager(openbao.settings())
    names = list(values) * 10
    with ThreadPoolExecutor(8) as pool:
        read = list(pool.map(manager.get_secret, names))
    assert read == [values[name] for name in names]


def test_asyncio_tasks_read_concurrently(openbao):
    values = {f"async_{n}": planted(f"a{n}") for n in range(4)}
    for name, value in values.items():
        openbao.put(name, {"value": value})
    manager = cronos_secrets.get_secrets_manager(openbao.settings())

    async def main():
        singles = [manager.get_secret_async(name) for name in values]
        batch = manager.get_secrets_async(list(values))
        info = manager.describe_async("async_0")
        return await asyncio.gather(asyncio.gather(*singles), batch, info)

    singles, batch, info = asyncio.run(main())
    assert singles == list(values.values())
    assert batch == values
    assert info.version == "1"


class PythonVault(BaseHTTPRequestHandler):
    """A Vault answered by Python code: it can answer only while the reader has released the
    GIL (with the GIL held, the read would wait for it until its timeout)."""

    value = None

    def do_GET(self):
        body = json.dumps({
            "data": {
                "data": {"value": self.value},
                "metadata": {"version": 1, "created_time": "2026-01-01T00:00:00Z"},
            }
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_gil_is_released_while_waiting_on_the_backend():
    PythonVault.value = planted("gil")
    server = ThreadingHTTPServer(("127.0.0.1", 0), PythonVault)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        manager = cronos_secrets.get_secrets_manager(
            {"backend": "vault", "vault_addr": f"http://127.0.0.1:{server.server_port}",
             "vault_token": "t", "vault_kv_version": 2},
            timeout=20,
        )
        assert manager.get_secret("held") == PythonVault.value
    finally:
        server.shutdown()
