"""A PostgreSQL impostor on 127.0.0.1: it answers the SSLRequest with 'S' and presents its own
(self-signed) certificate, as someone holding the database's address would.

Usage: pg_impostor.py PORT CERT KEY RECORD MODE [UPSTREAM_PORT]

MODE cleartext: asks every login for a cleartext password (AuthenticationCleartextPassword),
  then says "ok" so that the next login follows; RECORD gets every byte received after the TLS
  handshake (startup messages included), for the test to grep for passwords.
MODE relay: forwards each login to the real server on UPSTREAM_PORT over a TLS of its own (a
  man in the middle that does not know any password); relay-strip-plus also removes
  SCRAM-SHA-256-PLUS from the server's offer (a downgrade).
"""
import select
import socket
import ssl
import struct
import sys
import threading

port, cert, key, record, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
upstream_port = int(sys.argv[6]) if len(sys.argv) > 6 else None
SSL_REQUEST = 80877103
server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_context.load_cert_chain(cert, key)
client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
client_context.check_hostname = False
client_context.verify_mode = ssl.CERT_NONE
record_lock = threading.Lock()


def keep(data):
    with record_lock, open(record, "ab") as out:
        out.write(data)


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_startup(sock):
    """The untyped startup message, whole (length included)."""
    header = read_exactly(sock, 4)
    return header + read_exactly(sock, struct.unpack("!i", header)[0] - 4)


def read_message(sock):
    """One typed message, whole."""
    header = read_exactly(sock, 5)
    return header + read_exactly(sock, struct.unpack("!i", header[1:])[0] - 4)


def ask_cleartext(client):
    keep(read_startup(client))
    client.sendall(b"R" + struct.pack("!ii", 8, 3))
    keep(read_message(client))
    client.sendall(b"R" + struct.pack("!ii", 8, 0) + b"Z" + struct.pack("!i", 5) + b"I")
    while True:
        data = client.recv(65536)
        if not data:
            return
        keep(data)


def without_plus(message):
    """The server's SASL offer (R, code 10) without SCRAM-SHA-256-PLUS."""
    if message[:1] == b"R" and struct.unpack("!i", message[5:9])[0] == 10:
        body = struct.pack("!i", 10) + b"SCRAM-SHA-256\0\0"
        return b"R" + struct.pack("!i", len(body) + 4) + body
    return message


def relay(client):
    startup = read_startup(client)
    upstream = socket.create_connection(("127.0.0.1", upstream_port))
    upstream.sendall(struct.pack("!ii", 8, SSL_REQUEST))
    if read_exactly(upstream, 1) != b"S":
        raise EOFError
    upstream = client_context.wrap_socket(upstream)
    upstream.sendall(startup)
    pending_from_server = b""
    try:
        while True:
            ready = [s for s in (client, upstream) if s.pending()]
            if not ready:
                ready, _, _ = select.select([client, upstream], [], [])
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                if sock is client:
                    upstream.sendall(data)
                    continue
                if mode != "relay-strip-plus":
                    client.sendall(data)
                    continue
                pending_from_server += data
                while len(pending_from_server) >= 5:
                    length = struct.unpack("!i", pending_from_server[1:5])[0] + 1
                    if len(pending_from_server) < length:
                        break
                    message, pending_from_server = pending_from_server[:length], pending_from_server[length:]
                    client.sendall(without_plus(message))
    finally:
        upstream.close()


def handle(client):
    try:
        header = read_exactly(client, 8)
        if struct.unpack("!ii", header)[1] != SSL_REQUEST:
            return
        client.sendall(b"S")
        client = server_context.wrap_socket(client, server_side=True)
        if mode == "cleartext":
            ask_cleartext(client)
        else:
            relay(client)
    except (EOFError, OSError, ssl.SSLError):
        pass
    finally:
        client.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(16)
while True:
    connection, _ = listener.accept()
    threading.Thread(target=handle, args=(connection,), daemon=True).start()
