"""moto's real server, wrapped to count AWS calls and inject the failures moto cannot produce.

Used by tests/aws.rs and bench/aws.sh. Every request still goes to moto's own WSGI app (the
one `moto_server` runs); this middleware only looks at it first:

* counts requests per access key id and `X-Amz-Target` action, served as JSON at
  GET /_counts/<access key id> (each test uses its own key, so parallel tests do not mix);
* rejects BatchGetSecretValue with more than 20 ids, or with an id that cannot be a secret
  name or ARN, as AWS does (moto does not check);
* injects failures chosen by words in the access key id:
  DENYBATCH  BatchGetSecretValue -> AccessDeniedException (the role may not batch)
  DENYGET    GetSecretValue -> AccessDeniedException
  KMSFAIL    every secret -> DecryptionFailure (in a batch: per secret, in its Errors)
  FLAKY      the key's 1st request -> ThrottlingException, 2nd -> 500 InternalServiceError
  THROTTLED  every request -> ThrottlingException
  DENYPROMOTE UpdateSecretVersionStage moving AWSCURRENT -> AccessDeniedException (a rotation
             whose promote fails after its other steps)

and corrects two moto bugs (5.2.x, the latest). First: after UpdateSecretVersionStage moves
AWSCURRENT, reads that name no stage (GetSecretValue without VersionStage/VersionId, and
BatchGetSecretValue) keep answering the old version, because moto serves them from
`default_version_id`, which only PutSecretValue updates. Real AWS serves the version staged
AWSCURRENT. The wrapper points `default_version_id` at the new AWSCURRENT version after each
such call (tests/rotate.rs `moto_serves_the_promoted_version_to_unstaged_reads` shows it).
Second: ListSecretVersionIds answers the time of the call as every version's CreatedDate; the
wrapper puts back the date moto stored when the version was created, as AWS answers (what
`rotate --status` reads the schedule from).

    python3 moto_counting.py --port 5000
"""

import argparse
import collections
import io
import json
import re
import threading

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.secretsmanager.models import secretsmanager_backends
from werkzeug.serving import run_simple

BATCH_LIMIT = 20
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
REGION = re.compile(r"Credential=[^/,\s]+/[0-9]+/([^/,\s]+)/")
# Secret names and ARNs; AWS refuses a whole batch when one id is not one.
VALID_ID = re.compile(r"[A-Za-z0-9/_+=.@:-]+")

lock = threading.Lock()
counts = collections.defaultdict(collections.Counter)


def aws_error(start_response, status, code, message):
    body = json.dumps({"__type": code, "message": message}).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Content-Length", str(len(body))),
            ("x-amzn-ErrorType", code),
        ],
    )
    return [body]


def denied(action):
    return (
        "User: arn:aws:iam::123456789012:user/launcher is not authorized to perform: "
        f"secretsmanager:{action} because no identity-based policy allows it"
    )


class Counting:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_counts/"):
            key = path[len("/_counts/"):]
            with lock:
                body = json.dumps(dict(counts[key])).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]

        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action = target.split(".", 1)[-1] if target else environ.get("REQUEST_METHOD", "?")
        match = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        key = match.group(1) if match else "anonymous"
        with lock:
            counts[key][action] += 1
            seen = sum(counts[key].values())

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))

        if "THROTTLED" in key or ("FLAKY" in key and seen == 1):
            return aws_error(start_response, "400 Bad Request", "ThrottlingException", "Rate exceeded")
        if "FLAKY" in key and seen == 2:
            return aws_error(
                start_response, "500 Internal Server Error", "InternalServiceError", "try again"
            )
        if action == "BatchGetSecretValue":
            ids = json.loads(body or b"{}").get("SecretIdList", [])
            if len(ids) > BATCH_LIMIT:
                return aws_error(
                    start_response,
                    "400 Bad Request",
                    "ValidationException",
                    f"SecretIdList has {len(ids)} ids; the maximum is {BATCH_LIMIT}",
                )
            invalid = [i for i in ids if not VALID_ID.fullmatch(i)]
            if invalid:
                return aws_error(
                    start_response,
                    "400 Bad Request",
                    "ValidationException",
                    f"Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@! ({invalid[0]})",
                )
            if "DENYBATCH" in key:
                return aws_error(start_response, "400 Bad Request", "AccessDeniedException", denied(action))
        if action == "GetSecretValue" and "DENYGET" in key:
            return aws_error(start_response, "400 Bad Request", "AccessDeniedException", denied(action))
        if "KMSFAIL" in key and action in ("GetSecretValue", "BatchGetSecretValue"):
            return self.decryption_failure(environ, start_response, action, body)
        if action == "UpdateSecretVersionStage":
            if "DENYPROMOTE" in key and json.loads(body or b"{}").get("VersionStage") == "AWSCURRENT":
                return aws_error(start_response, "400 Bad Request", "AccessDeniedException", denied(action))
            return self.stage_moved(environ, start_response, body)
        if action == "ListSecretVersionIds":
            return self.version_dates(environ, start_response, body)
        return self.app(environ, start_response)

    def version_dates(self, environ, start_response, body):
        """Passes the call to moto, then gives each version the date it was created."""
        status = []
        answer = b"".join(self.app(environ, lambda code, headers, exc_info=None: status.append((code, headers))))
        code, headers = status[0]
        if code.startswith("200"):
            listing = json.loads(answer)
            match = REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
            region = match.group(1) if match else "us-east-1"
            backend = secretsmanager_backends[DEFAULT_ACCOUNT_ID][region]
            secret = backend.describe_secret(json.loads(body or b"{}")["SecretId"])
            with lock:
                for version in listing.get("Versions", []):
                    stored = secret.versions.get(version["VersionId"], {})
                    version["CreatedDate"] = stored.get("createdate", version["CreatedDate"])
            answer = json.dumps(listing).encode()
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(answer))))
        start_response(code, headers)
        return [answer]

    def stage_moved(self, environ, start_response, body):
        """Passes the call to moto, then makes moto's unstaged reads follow AWSCURRENT."""
        status = []

        def capture(code, headers, exc_info=None):
            status.append(code)
            return start_response(code, headers, exc_info)

        answer = list(self.app(environ, capture))
        request = json.loads(body or b"{}")
        moved = request.get("VersionStage") == "AWSCURRENT" and request.get("MoveToVersionId")
        if status and status[0].startswith("200") and moved:
            match = REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
            region = match.group(1) if match else "us-east-1"
            backend = secretsmanager_backends[DEFAULT_ACCOUNT_ID][region]
            secret = backend.describe_secret(request["SecretId"])
            with lock:
                secret.set_default_version_id(request["MoveToVersionId"])
        return answer

    def decryption_failure(self, environ, start_response, action, body):
        message = "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
        if action == "GetSecretValue":
            return aws_error(start_response, "400 Bad Request", "DecryptionFailure", message)
        ids = json.loads(body).get("SecretIdList", [])
        errors = [{"SecretId": i, "ErrorCode": "DecryptionFailure", "Message": message} for i in ids]
        answer = json.dumps({"SecretValues": [], "Errors": errors}).encode()
        start_response(
            "200 OK",
            [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(answer)))],
        )
        return [answer]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", args.port, Counting(app), threaded=True)


if __name__ == "__main__":
    main()
