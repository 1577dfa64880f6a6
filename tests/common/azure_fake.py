#!/usr/bin/env python3
"""A fake Azure Key Vault and its token endpoints, faithful to the wire protocol, for tests.

HTTPS (the test's CA) on --vault-ports (each port one vault, named by its Host header) and
--login-port (Entra ID: /{tenant}/oauth2/v2.0/token for client_secret and client_assertion
grants, plus the OpenID discovery documents MSAL reads). Plain HTTP on --admin-port: the
IMDS endpoint (/metadata/identity/oauth2/token, header Metadata: true), the App Service
identity endpoint (/msi/token, header X-IDENTITY-HEADER), and /_admin/* for tests.

Key Vault, as documented and recorded by the Azure SDKs: a request without a valid bearer
token gets 401 with WWW-Authenticate: Bearer authorization="<authority>/<tenant>",
resource="https://vault.azure.net"; api-version is required; GET /secrets/{name}[/][/{version}]
answers a secret bundle; PUT /secrets/{name} makes a new version; GET /secrets/{name}/versions
pages with nextLink; errors are {"error":{"code","message","innererror"}}; names are
case-insensitive; a disabled version answers 403 SecretDisabled. Rate limiting answers 429
with Retry-After.

Every request is logged as one JSON line on stdout ({"kind": "challenge"|"get"|"put"|"token"|
"list"|...}); values, secrets and tokens are never logged.
"""

import argparse
import base64
import hashlib
import json
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {
    "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "resource": "https://vault.azure.net",
    # vault host:port -> lowercase name -> list of versions (oldest first)
    "vaults": {},
    # token -> {"scope": ..., "flow": ...}
    "tokens": {},
    # client_id -> client_secret (client_secret grant)
    "clients": {},
    # client_id -> accepted assertion (workload identity)
    "assertions": {},
    # IMDS / App Service: client id allowed ("" = system-assigned)
    "identities": [""],
    "identity_header": "fake-identity-header",
    # forced failures: {"kind": "get"|"token"|..., "status": 403, "code": "ForbiddenByRbac", "count": n}
    "faults": [],
    "token_delay": 0.0,
    "token_dead": False,
    "imds_dead": False,
    "rate": None,  # GETs per second across all vaults
    "retry_after": 1,  # the least Retry-After a throttled GET gets
    "counts": {},
    "page_size": 2,
}
BUCKET = {"tokens": 0.0, "last": time.monotonic(), "next_free": 0.0}
# Requests held by a {"hold": true} fault (a test's forced interleaving): how many wait now,
# and the event that lets them go on (replaced on each release).
HOLD = {"held": 0, "release": threading.Event()}


def log(kind, **fields):
    with LOCK:
        STATE["counts"][kind] = STATE["counts"].get(kind, 0) + 1
    sys.stdout.write(json.dumps({"kind": kind, "t": round(time.time(), 3), **fields}) + "\n")
    sys.stdout.flush()


def take_fault(kind, name=None):
    with LOCK:
        for fault in STATE["faults"]:
            if fault["kind"] != kind:
                continue
            if fault.get("name") and name and fault["name"].lower() != name.lower():
                continue
            if fault.get("count", 1) <= 0:
                continue
            fault["count"] = fault.get("count", 1) - 1
            return dict(fault)
    return None


def rate_limited():
    """A token bucket of `rate` GETs per second (burst = one second's worth). A refused request
    gets the whole seconds until the queue of refused requests ahead of it has been served, as
    its Retry-After; None when admitted."""
    with LOCK:
        rate = STATE["rate"]
        if not rate:
            return None
        now = time.monotonic()
        BUCKET["tokens"] = min(rate, BUCKET["tokens"] + (now - BUCKET["last"]) * rate)
        BUCKET["last"] = now
        if BUCKET["tokens"] >= 1:
            BUCKET["tokens"] -= 1
            return None
        BUCKET["next_free"] = max(now, BUCKET["next_free"]) + 1.0 / rate
        return max(STATE["retry_after"], int(BUCKET["next_free"] - now + 0.999))


def new_version_id():
    return secrets.token_hex(16)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-azure"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle and the client's
    # delayed ACK add 40 ms to every answer on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def setup(self):
        # The TLS handshake happens here, in the connection's own thread (OpenSSL releases
        # the GIL), not in the accept loop, where a burst of clients would queue behind it.
        if hasattr(self.request, "do_handshake"):
            self.request.do_handshake()
        super().setup()

    # -- plumbing -----------------------------------------------------------------------
    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, payload=None, headers=None):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", secrets.token_hex(8))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def kv_error(self, status, code, message, inner=None, headers=None):
        error = {"code": code, "message": message}
        if inner:
            error["innererror"] = {"code": inner}
        self.send(status, {"error": error}, headers)

    def do_GET(self):
        self.dispatch("GET")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_POST(self):
        self.dispatch("POST")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        role = self.server.role
        try:
            if role == "vault":
                self.vault(method, url.path, query)
            elif role == "login":
                self.login(method, url.path)
            else:
                self.plain(method, url.path, query)
        except BrokenPipeError:
            pass

    # -- Key Vault ----------------------------------------------------------------------
    def vault_name(self):
        return self.headers.get("Host", "").lower()

    def authorized(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return False
        with LOCK:
            grant = STATE["tokens"].get(header[len("Bearer "):])
        return grant is not None and grant["scope"].startswith(STATE["resource"])

    def vault(self, method, path, query):
        vault = self.vault_name()
        if not self.authorized():
            log("challenge", vault=vault, method=method, path=path)
            # The SDKs send the challenge request without a body; drain whatever came.
            self.body()
            authority = STATE.get("authority", "https://login.microsoftonline.com")
            challenge = 'Bearer authorization="%s/%s", resource="%s"' % (
                authority, STATE["tenant"], STATE["resource"])
            self.kv_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.",
                          headers={"WWW-Authenticate": challenge})
            return
        if "api-version" not in query:
            self.kv_error(400, "BadParameter", "The request URI contains an invalid api-version.")
            return
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if not parts or parts[0] != "secrets":
            self.kv_error(404, "NotFound", "unknown path")
            return
        if method == "GET" and len(parts) >= 3 and parts[2] == "versions":
            self.list_versions(vault, parts[1], query)
            return
        if method == "GET" and len(parts) in (2, 3):
            name = parts[1]
            version = parts[2] if len(parts) == 3 and parts[2] else None
            retry_after = rate_limited()
            if retry_after is not None:
                log("throttled", vault=vault, name=name)
                self.kv_error(429, "Throttled", "Request was not processed because too many requests were received.",
                              headers={"Retry-After": str(retry_after)})
                return
            log("get", vault=vault, name=name, version=version)
            self.get_secret(vault, name, version)
            return
        if method == "PUT" and len(parts) == 2:
            self.put_secret(vault, parts[1])
            return
        if method == "PATCH" and len(parts) == 3:
            self.update_secret(vault, parts[1], parts[2])
            return
        self.kv_error(405, "BadRequest", "method not allowed")

    def find(self, vault, name):
        with LOCK:
            return STATE["vaults"].get(vault, {}).get(name.lower())

    def forced(self, kind, name):
        fault = take_fault(kind, name)
        if not fault:
            return False
        if fault.get("hold"):
            # Held until the test releases it (admin "release"), then served as usual.
            with LOCK:
                HOLD["held"] += 1
                release = HOLD["release"]
            release.wait(120)
            with LOCK:
                HOLD["held"] -= 1
            return False
        status = fault.get("status", 500)
        headers = {}
        if status == 429:
            headers["Retry-After"] = str(fault.get("retry_after", 1))
        code = fault.get("code", "InternalServerError")
        messages = {
            "ForbiddenByRbac": "Caller is not authorized to perform action on resource. If role assignments, deny assignments or role definitions were changed recently, please observe propagation time. Caller: appid=00000000;oid=00000000 Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action' Resource: '/subscriptions/x/resourcegroups/y/providers/microsoft.keyvault/vaults/z/secrets/%s' Assignment: (not found) DenyAssignmentId: null" % name,
            "ForbiddenByFirewall": "Client address is not authorized and caller is not a trusted service.\r\nClient address: 203.0.113.7",
        }
        if code in ("ForbiddenByRbac", "ForbiddenByFirewall"):
            self.kv_error(status, "Forbidden", messages[code], inner=code, headers=headers)
        else:
            self.kv_error(status, code, "forced by the test", headers=headers)
        return True

    def bundle(self, vault, name, entry, with_value=True):
        bundle = {
            "id": "https://%s/secrets/%s/%s" % (vault, name, entry["version"]),
            "attributes": dict(entry["attributes"]),
            "tags": entry.get("tags", {}),
        }
        if entry.get("contentType"):
            bundle["contentType"] = entry["contentType"]
        if with_value:
            bundle["value"] = entry["value"]
        return bundle

    def get_secret(self, vault, name, version):
        if self.forced("get", name):
            return
        versions = self.find(vault, name)
        if not versions:
            self.kv_error(404, "SecretNotFound",
                          "A secret with (name/id) %s was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182" % name)
            return
        if version:
            matches = [v for v in versions if v["version"] == version]
            if not matches:
                self.kv_error(404, "SecretNotFound",
                              "A secret with (name/id) %s/%s was not found in this key vault." % (name, version))
                return
            entry = matches[0]
        else:
            entry = versions[-1]
        if not entry["attributes"]["enabled"]:
            self.kv_error(403, "Forbidden", "Operation get is not allowed on a disabled secret.", inner="SecretDisabled")
            return
        self.send(200, self.bundle(vault, versions[0]["name"], entry))

    def put_secret(self, vault, name):
        raw = self.body()
        if self.forced("put", name):
            return
        if not all(c.isalnum() or c == "-" for c in name) or not 1 <= len(name) <= 127:
            self.kv_error(400, "BadParameter", "The request URI contains an invalid name: %s" % name)
            return
        try:
            body = json.loads(raw)
            value = body["value"]
        except (ValueError, KeyError, TypeError):
            self.kv_error(400, "BadParameter", "Property value is required.")
            return
        entry = plant(vault, name, value, body.get("attributes") or {}, body.get("contentType"), body.get("tags"))
        log("put", vault=vault, name=name)
        self.send(200, self.bundle(vault, entry["name"], entry))

    def update_secret(self, vault, name, version):
        """UpdateSecret: changes one version's contentType, attributes and tags in place (no
        new version; the value cannot change); `tags` replaces the version's tag set, and
        `attributes.updated` becomes now. Answers the bundle without its value."""
        raw = self.body()
        if self.forced("patch", name):
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            self.kv_error(400, "BadParameter", "The request body is not valid JSON.")
            return
        with LOCK:
            versions = STATE["vaults"].get(vault, {}).get(name.lower()) or []
            matches = [v for v in versions if v["version"] == version]
            if matches:
                entry = matches[0]
                if "tags" in body:
                    entry["tags"] = dict(body["tags"] or {})
                if body.get("contentType") is not None:
                    entry["contentType"] = body["contentType"]
                for key in ("enabled", "exp", "nbf"):
                    value = (body.get("attributes") or {}).get(key)
                    if value is not None:
                        entry["attributes"][key] = value
                entry["attributes"]["updated"] = int(time.time())
        if not matches:
            self.kv_error(404, "SecretNotFound",
                          "A secret with (name/id) %s/%s was not found in this key vault." % (name, version))
            return
        log("patch", vault=vault, name=name, version=version)
        self.send(200, self.bundle(vault, versions[0]["name"], entry, with_value=False))

    def list_versions(self, vault, name, query):
        log("list", vault=vault, name=name)
        versions = self.find(vault, name) or []
        if not versions:
            self.kv_error(404, "SecretNotFound", "A secret with (name/id) %s was not found in this key vault." % name)
            return
        size = int(query.get("maxresults") or STATE["page_size"])
        start = int(query.get("$skiptoken") or 0)
        page = versions[start:start + size]
        answer = {"value": [self.bundle(vault, v["name"], v, with_value=False) for v in page], "nextLink": None}
        if start + size < len(versions):
            answer["nextLink"] = "https://%s/secrets/%s/versions?api-version=%s&$skiptoken=%d&maxresults=%d" % (
                vault, name, query.get("api-version", "7.4"), start + size, size)
        self.send(200, answer)

    # -- Entra ID -----------------------------------------------------------------------
    def login(self, method, path):
        parts = path.strip("/").split("/")
        if method == "GET" and path.endswith("/.well-known/openid-configuration"):
            tenant = parts[0]
            base = "https://%s/%s" % (self.headers.get("Host"), tenant)
            self.send(200, {
                "token_endpoint": base + "/oauth2/v2.0/token",
                "authorization_endpoint": base + "/oauth2/v2.0/authorize",
                "issuer": base + "/v2.0",
                "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                "jwks_uri": base + "/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "tenant_region_scope": "NA",
                "cloud_instance_name": "microsoftonline.com",
            })
            return
        if method == "GET" and path.endswith("/discovery/instance"):
            host = self.headers.get("Host")
            self.send(200, {"tenant_discovery_endpoint": "https://%s/common/v2.0/.well-known/openid-configuration" % host,
                            "api-version": "1.1",
                            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]})
            return
        if method != "POST" or len(parts) != 4 or parts[1:] != ["oauth2", "v2.0", "token"]:
            self.send(404, {"error": "not_found", "error_description": "unknown path"})
            return
        form = dict(urllib.parse.parse_qsl(self.body().decode()))
        tenant = parts[0]
        grant = form.get("grant_type")
        flow = "client_assertion" if "client_assertion" in form else "client_secret"
        log("token", flow=flow, tenant=tenant, scope=form.get("scope"), client_id=form.get("client_id"))
        if STATE["token_dead"]:
            self.send(503, {"error": "temporarily_unavailable", "error_description": "AADSTS90033: A transient error has occurred."})
            return
        if STATE["token_delay"]:
            time.sleep(STATE["token_delay"])
        if tenant != STATE["tenant"]:
            self.send(400, {"error": "invalid_request", "error_description": "AADSTS90002: Tenant '%s' not found." % tenant})
            return
        client_id = form.get("client_id", "")
        if grant != "client_credentials":
            self.send(400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003: grant type not supported."})
            return
        if flow == "client_secret":
            if STATE["clients"].get(client_id) is None:
                self.send(400, {"error": "unauthorized_client", "error_description": "AADSTS700016: Application with identifier '%s' was not found in the directory." % client_id})
                return
            if STATE["clients"][client_id] != form.get("client_secret"):
                self.send(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."})
                return
        else:
            if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                self.send(400, {"error": "invalid_request", "error_description": "AADSTS50027: invalid client_assertion_type."})
                return
            if STATE["assertions"].get(client_id) != form.get("client_assertion"):
                self.send(400, {"error": "invalid_client", "error_description": "AADSTS70021: No matching federated identity record found for presented assertion."})
                return
        self.issue(form.get("scope", ""), flow, numbers_as_strings=False)

    def issue(self, scope, flow, numbers_as_strings):
        token = "fake-" + secrets.token_urlsafe(24)
        with LOCK:
            STATE["tokens"][token] = {"scope": scope, "flow": flow}
        expires_in = 3599
        answer = {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in,
                  "access_token": token}
        if numbers_as_strings:
            answer = {"access_token": token, "expires_in": str(expires_in),
                      "expires_on": str(int(time.time()) + expires_in), "resource": scope,
                      "token_type": "Bearer", "client_id": "fake"}
        self.send(200, answer)

    # -- plain HTTP: IMDS, App Service, admin --------------------------------------------
    def plain(self, method, path, query):
        if path == "/metadata/identity/oauth2/token":
            log("token", flow="imds", resource=query.get("resource"), client_id=query.get("client_id"))
            if STATE["imds_dead"]:
                time.sleep(30)
                return
            if self.headers.get("Metadata") != "true":
                self.send(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
                return
            self.managed(query)
            return
        if path == "/msi/token":
            log("token", flow="app_service", resource=query.get("resource"), client_id=query.get("client_id"))
            if self.headers.get("X-IDENTITY-HEADER") != STATE["identity_header"]:
                self.send(401, {"statusCode": 401, "message": "Unauthorized: X-IDENTITY-HEADER missing or wrong"})
                return
            self.managed(query)
            return
        if path.startswith("/_admin/"):
            self.admin(method, path[len("/_admin/"):], query)
            return
        self.send(404, {"error": "not_found"})

    def managed(self, query):
        if "api-version" not in query or not query.get("resource"):
            self.send(400, {"error": "invalid_request", "error_description": "Required query variable 'resource' is missing"})
            return
        client_id = query.get("client_id", "")
        if client_id not in STATE["identities"]:
            self.send(400, {"error": "invalid_request", "error_description": "Identity not found"})
            return
        self.issue(query["resource"].rstrip("/") + "/.default", "managed", numbers_as_strings=True)

    def admin(self, method, action, query):
        body = json.loads(self.body() or b"{}")
        if action == "ready":
            self.send(200, {"ready": True})
        elif action == "plant":
            entry = plant(body["vault"].lower(), body["name"], body["value"], body.get("attributes") or {},
                          body.get("contentType"), body.get("tags"))
            self.send(200, {"version": entry["version"]})
        elif action == "held":
            with LOCK:
                self.send(200, {"held": HOLD["held"]})
        elif action == "release":
            with LOCK:
                release, HOLD["release"] = HOLD["release"], threading.Event()
            release.set()
            self.send(200, {})
        elif action == "versions":
            # Every version of a secret, oldest first, with its value and tags.
            with LOCK:
                versions = STATE["vaults"].get(body["vault"].lower(), {}).get(body["name"].lower()) or []
                answer = [{"version": v["version"], "value": v["value"], "tags": v.get("tags") or {},
                           "enabled": v["attributes"]["enabled"]} for v in versions]
            self.send(200, {"versions": answer})
        elif action == "attributes":
            with LOCK:
                versions = STATE["vaults"][body["vault"].lower()][body["name"].lower()]
                entry = [v for v in versions if v["version"] == body.get("version")] or [versions[-1]]
                entry[0]["attributes"].update(body["attributes"])
            self.send(200, {})
        elif action == "configure":
            with LOCK:
                for key, value in body.items():
                    STATE[key] = value
                if "rate" in body:
                    BUCKET["tokens"] = float(body["rate"] or 0)
                    BUCKET["last"] = time.monotonic()
                    BUCKET["next_free"] = 0.0
            self.send(200, {})
        elif action == "client":
            with LOCK:
                STATE["clients"][body["client_id"]] = body["client_secret"]
            self.send(200, {})
        elif action == "assertion":
            with LOCK:
                STATE["assertions"][body["client_id"]] = body["assertion"]
            self.send(200, {})
        elif action == "identity":
            with LOCK:
                STATE["identities"].append(body["client_id"])
            self.send(200, {})
        elif action == "fault":
            with LOCK:
                STATE["faults"].append(body)
            self.send(200, {})
        elif action == "token":
            # A token as `az account get-access-token` would print it.
            token = "fake-" + secrets.token_urlsafe(24)
            with LOCK:
                STATE["tokens"][token] = {"scope": STATE["resource"] + "/.default", "flow": "cli"}
            self.send(200, {"accessToken": token})
        elif action == "counts":
            with LOCK:
                self.send(200, dict(STATE["counts"]))
        elif action == "reset-counts":
            with LOCK:
                STATE["counts"] = {}
            self.send(200, {})
        else:
            self.send(404, {"error": "unknown admin action"})


def plant(vault, name, value, attributes, content_type=None, tags=None):
    now = int(time.time())
    entry = {
        "name": name,
        "value": value,
        "version": new_version_id(),
        "contentType": content_type,
        "tags": tags or {},
        "attributes": {"enabled": True, "created": now, "updated": now,
                       "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90},
    }
    for key in ("enabled", "exp", "nbf"):
        if key in attributes and attributes[key] is not None:
            entry["attributes"][key] = attributes[key]
    with LOCK:
        versions = STATE["vaults"].setdefault(vault, {}).setdefault(name.lower(), [])
        if versions:
            entry["name"] = versions[0]["name"]
        versions.append(entry)
    return entry


def serve(port, role, context):
    # The listen backlog is fixed when the socket is activated, so it is set before: with the
    # default of 5, a burst of launches loses SYNs and waits out TCP's 1, 3, 7, 15 s retries.
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler, bind_and_activate=False)
    server.daemon_threads = True
    server.request_queue_size = 1024
    server.server_bind()
    server.server_activate()
    server.role = role
    if context:
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--vault-ports", required=True, help="comma-separated")
    parser.add_argument("--login-port", type=int, required=True)
    parser.add_argument("--admin-port", type=int, required=True)
    args = parser.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    STATE["authority"] = "https://127.0.0.1:%d" % args.login_port
    for port in args.vault_ports.split(","):
        serve(int(port), "vault", context)
    serve(args.login_port, "login", context)
    serve(args.admin_port, "plain", None)
    log("started")
    threading.Event().wait()


if __name__ == "__main__":
    main()
