"""The cognito-sync local emulator: moto's server plus Cognito import jobs, one port.

Run through `tests/emulator/emulator serve` (which provides the pinned virtualenv).

Layers, outermost first (a WSGI middleware around moto's DomainDispatcherApplication):
  /_emulator/...   control API (faults, counts, config, seed-users); never counted/faulted
  /_upload/<job>   the pre-signed S3-like upload URL of import jobs ("UploadCSV")
  everything else  counted per access key + operation, faults injected, then moto
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import emu_state as st  # noqa: E402
import cognito_import  # noqa: E402
import moto_patches  # noqa: E402

from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402

JSON = "application/json"


def _reply(start_response, status: int, body: bytes | str, headers: dict[str, str] | None = None):
    if isinstance(body, str):
        body = body.encode()
    reasons = {200: "OK", 204: "No Content", 400: "Bad Request", 403: "Forbidden",
               404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
               503: "Service Unavailable"}
    hdrs = [("Content-Length", str(len(body)))]
    for k, v in (headers or {}).items():
        hdrs.append((k, v))
    start_response(f"{status} {reasons.get(status, 'Unknown')}", hdrs)
    return [body]


def _json(start_response, status: int, obj: Any):
    return _reply(start_response, status, json.dumps(obj), {"Content-Type": JSON})


def _read_body(environ) -> bytes:
    try:
        n = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        n = 0
    if n > 0:
        body = environ["wsgi.input"].read(n)
    elif environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        body = environ["wsgi.input"].read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


# ----------------------------------------------------------------------------------
# Protocol of the target service, for faults
# ----------------------------------------------------------------------------------

def _operation(environ, body: bytes) -> tuple[str, str]:
    """(service, operation). JSON protocol: X-Amz-Target's action; query protocol (IAM,
    STS): the Action parameter; anything else: METHOD + first path segment."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    auth = environ.get("HTTP_AUTHORIZATION", "")
    service = ""
    try:
        service = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")[3]
    except IndexError:
        pass
    if target:
        prefix, _, op = target.rpartition(".")
        if not service:
            service = "cognito-idp" if "CognitoIdentityProvider" in prefix else (
                "logs" if prefix.startswith("Logs") else prefix)
        return service, op
    ctype = environ.get("CONTENT_TYPE", "")
    params = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "x-www-form-urlencoded" in ctype and body:
        params.update(urllib.parse.parse_qs(body.decode("utf-8", "replace")))
    if "Action" in params:
        return service or "query", params["Action"][0]
    seg = environ.get("PATH_INFO", "/").strip("/").split("/")[0]
    return service or "rest", f"{environ.get('REQUEST_METHOD', 'GET')} /{seg}"


def _fault_response(start_response, service: str, operation: str, kind: str):
    throttle = kind == "throttle"
    if service in ("iam", "sts", "query"):
        # query protocol: XML ErrorResponse. IAM throttling code is "Throttling".
        code, status = ("Throttling", 400) if throttle else ("ServiceFailure", 500)
        msg = "Rate exceeded" if throttle else "Injected server error (emulator fault)."
        body = ("<ErrorResponse><Error><Type>" + ("Sender" if throttle else "Receiver")
                + f"</Type><Code>{code}</Code><Message>{msg}</Message></Error>"
                "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>")
        return _reply(start_response, status, body, {"Content-Type": "text/xml"})
    if service == "logs":
        # CloudWatch Logs (JSON 1.1): ThrottlingException / ServiceUnavailableException.
        code, status = ("ThrottlingException", 400) if throttle else ("ServiceUnavailableException", 500)
    elif service == "cognito-idp":
        # [MODEL]: TooManyRequestsException is HTTP 429 for Cognito; AWS SDKs classify
        # it as throttling by its error code (botocore and the Rust SDK both list
        # TooManyRequestsException among throttling codes). InternalErrorException: 500.
        code, status = ("TooManyRequestsException", 429) if throttle else ("InternalErrorException", 500)
    else:
        code, status = ("ThrottlingException", 400) if throttle else ("InternalFailure", 500)
    msg = "Rate exceeded" if throttle else "Injected server error (emulator fault)."
    return _reply(start_response, status, json.dumps({"__type": code, "message": msg}),
                  {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code})


def _provisioned_limit(start_response, body: bytes, akid: str):
    """GetProvisionedLimit [MODEL] (moto lacks it): `LimitClass` API_CATEGORY with a
    `Category` attribute; the value is the quota the emulator enforces for that category, or
    the documented one. An unknown category: InvalidParameterException (chosen)."""
    try:
        request = json.loads(body or b"{}")
        definition = request["LimitDefinition"]
        category = definition.get("Attributes", {}).get("Category", "")
        limit_class = definition.get("LimitClass")
    except (ValueError, KeyError, AttributeError):
        limit_class, category, definition = None, "", {}
    values = st.provisioned_limit(akid, category) if limit_class == "API_CATEGORY" else None
    if values is None:
        # UNDOCUMENTED error; switch `provisioned_limit_unknown_category`.
        code = st.fault_value(akid, "provisioned_limit_unknown_category") or st.cfg(
            "provisioned_limit_unknown_category")
        return _reply(start_response, 400, json.dumps({
            "__type": code, "message": f"Unknown limit definition: {limit_class} {category}"}),
            {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code})
    provisioned, free = values
    out = {"Limit": {"LimitDefinition": definition, "ProvisionedLimitValue": int(provisioned),
                     "FreeLimitValue": int(free)}}
    return _reply(start_response, 200, json.dumps(out), {"Content-Type": "application/x-amz-json-1.1"})


# ----------------------------------------------------------------------------------
# Control API
# ----------------------------------------------------------------------------------

def _control(environ, start_response, body: bytes):
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")
    q = {k: v[0] for k, v in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()}
    akid = q.get("access_key")
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError:
        return _json(start_response, 400, {"error": "body is not JSON"})

    if path == "/_emulator/health":
        return _json(start_response, 200, {"ok": True})
    if path == "/_emulator/faults":
        if not akid:
            return _json(start_response, 400, {"error": "query parameter access_key is required"})
        if method in ("POST", "PUT"):
            if not isinstance(payload, dict):
                return _json(start_response, 400, {"error": "body must be a JSON object"})
            known = {"throttle", "server_error", "fail_upload", "hold_upload", "hold_start", "slow_start_seconds", "fail_job",
                     "fail_rows", "role_propagation_seconds", "seed", "deny", "quotas",
                     "url_expiry_seconds", "token_ttl_seconds", *st.CHOICES}
            unknown = sorted(set(payload) - known)
            if unknown:
                return _json(start_response, 400, {"error": f"unknown fault(s): {unknown}"})
            bad = [k for k in st.CHOICES if k in payload and payload[k] not in st.CHOICES[k]]
            if bad:
                return _json(start_response, 400, {"error": f"bad value for {bad}", "choices": st.CHOICES})
            st.set_faults(akid, payload)
            return _json(start_response, 200, {"access_key": akid, "faults": payload})
        if method == "GET":
            f = st.get_faults(akid)
            return _json(start_response, 200, {"access_key": akid, "faults": f.spec if f else {},
                                               "remaining": f.remaining if f else {}})
        if method == "DELETE":
            st.clear_faults(akid)
            return _json(start_response, 200, {"access_key": akid, "faults": {}})
    if path == "/_emulator/counts":
        if not akid:
            return _json(start_response, 400, {"error": "query parameter access_key is required"})
        if method == "GET":
            return _json(start_response, 200, st.get_counts(akid))
        if method == "DELETE":
            st.reset_counts(akid)
            return _json(start_response, 200, {})
    if path == "/_emulator/config":
        if method in ("POST", "PUT"):
            try:
                return _json(start_response, 200, st.update_config(payload))
            except (KeyError, TypeError, ValueError) as e:
                return _json(start_response, 400, {"error": f"bad config key/value: {e}",
                                                   "known": sorted(st.DEFAULT_CONFIG)})
        if method == "GET":
            return _json(start_response, 200, dict(st.CONFIG))
        if method == "DELETE":
            return _json(start_response, 200, st.reset_config())
    if path == "/_emulator/seed-users" and method == "POST":
        try:
            return _json(start_response, 200, seed_users(payload))
        except Exception as e:  # noqa: BLE001
            return _json(start_response, 400, {"error": f"{type(e).__name__}: {e}"})
    if path == "/_emulator/users" and method == "GET":
        try:
            return _json(start_response, 200, pool_users(q))
        except Exception as e:  # noqa: BLE001
            return _json(start_response, 400, {"error": f"{type(e).__name__}: {e}"})
    return _json(start_response, 404, {"error": f"no control endpoint {method} {path}"})


def _pool(p: dict[str, Any]):
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    account = p.get("account_id") or DEFAULT_ACCOUNT_ID
    pool = cognitoidp_backends[account][p["region"]].user_pools.get(p["pool_id"])
    if pool is None:
        raise KeyError(f"user pool {p['pool_id']} not found in {account}/{p['region']}")
    return pool


def pool_users(q: dict[str, Any]) -> dict[str, Any]:
    """What a pool holds, read from moto's backend (not through the API, so that a test
    checks cognito-sync's result independently of cognito-sync's reader). Query: pool_id,
    region, account_id?. Answer: {"groups": {name: {description, precedence, role_arn}},
    "users": {username: {enabled, status, groups, attributes}}}."""
    pool = _pool(q)
    with st.LOCK:
        return {
            "groups": {g.group_name: {"description": g.description or None, "precedence": g.precedence,
                                      "role_arn": g.role_arn} for g in pool.groups.values()},
            "users": {u.username: {
                "enabled": u.enabled,
                "status": str(u.status.value if hasattr(u.status, "value") else u.status),
                "groups": sorted(g.group_name for g in u.groups),
                "attributes": {a["Name"]: a["Value"] for a in u.attributes},
            } for u in pool.users.values()},
        }


def seed_users(p: dict[str, Any]) -> dict[str, Any]:
    """Create users directly in moto's backend (fast path for benchmarks: 100k in seconds).
    Body: {"pool_id", "region", "account_id"?, "count", "prefix"? ("user"), "start"? (0),
    "domain"? ("example.com"), "attributes"? {name: value-template with {i} and {u}},
    "status"? ("CONFIRMED"), "enabled"? (true), "groups"? [names: each created user joins
    them; missing groups are created, as another admin would]}."""
    from moto.cognitoidp.models import CognitoIdpGroup, CognitoIdpUser, UserStatus

    pool = _pool(p)
    groups = []
    for name in p.get("groups") or []:
        if name not in pool.groups:
            pool.groups[name] = CognitoIdpGroup(pool.id, name, "", None, None)
        groups.append(pool.groups[name])
    enabled = bool(p.get("enabled", True))
    n = int(p.get("count", 0))
    prefix = p.get("prefix", "user")
    start = int(p.get("start", 0))
    domain = p.get("domain", "example.com")
    templates = p.get("attributes") or {"email": "{u}@" + domain, "email_verified": "true"}
    status = UserStatus[p.get("status", "CONFIRMED")]
    uses_attrs = bool(pool.extended_config.get("UsernameAttributes"))
    created = 0
    t0 = time.time()
    with st.LOCK:
        for i in range(start, start + n):
            uname = f"{prefix}{i:06d}"
            attrs = [{"Name": k, "Value": v.replace("{i}", str(i)).replace("{u}", uname)}
                     for k, v in templates.items()]
            user = CognitoIdpUser(pool.id, None if uses_attrs else uname, None, status, attrs)
            if user.username in pool.users:
                continue
            user.enabled = enabled
            for group in groups:
                group.users.add(user)
                user.groups.add(group)
            pool.users[user.username] = user
            created += 1
    # Seeded users live as long as the server: keep the garbage collector from walking
    # them on every collection (a 100k-user pool otherwise slows every request down).
    import gc
    gc.collect()
    gc.freeze()
    return {"created": created, "total": len(pool.users), "seconds": round(time.time() - t0, 3)}


# ----------------------------------------------------------------------------------
# The middleware
# ----------------------------------------------------------------------------------

class Emulator:
    def __init__(self):
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/"):
            return _control(environ, start_response, _read_body(environ))
        if path.startswith("/_upload/"):
            return self._upload(environ, start_response, path[len("/_upload/"):])
        body = _read_body(environ)
        akid = st.access_key_from_auth(environ.get("HTTP_AUTHORIZATION"))
        service, op = _operation(environ, body)
        st.count(akid, op)
        st.set_caller(akid)
        if st.take_fault(akid, "throttle", op):
            return _fault_response(start_response, service, op, "throttle")
        if st.take_fault(akid, "server_error", op):
            return _fault_response(start_response, service, op, "server_error")
        if service != "cognito-idp":
            return self.moto(environ, start_response)
        if op in (st.fault_value(akid, "deny") or []):
            code = "AccessDeniedException"
            return _reply(start_response, 400, json.dumps({
                "__type": code, "message": f"User is not authorized to perform: cognito-idp:{op}"}),
                {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code})
        fixed = st.latency_seconds("")
        if st.over_quota(akid, op):
            st.count(akid, "Throttled")
            time.sleep(fixed)
            return _fault_response(start_response, service, op, "throttle")
        if op == "GetProvisionedLimit":
            time.sleep(st.latency_seconds(op))
            return _provisioned_limit(start_response, body, akid)
        if op != "ListUsers":
            time.sleep(st.latency_seconds(op))
            return self.moto(environ, start_response)
        # A ListUsers page's latency may grow with the users it holds: answer, then wait.
        status_headers: list = []
        chunks = b"".join(self.moto(environ, lambda status, headers, exc=None: status_headers.append(
            (status, headers)) or (lambda _data: None)))
        time.sleep(st.latency_seconds(op, chunks.count(b'"Username"')))
        start_response(*status_headers[0])
        return [chunks]

    def _upload(self, environ, start_response, job_id: str):
        body = _read_body(environ)
        job = cognito_import.job_for_upload(job_id)
        akid = job.access_key if job else st.ANONYMOUS
        st.count(akid, "UploadCSV")
        st.set_caller(akid)
        if environ.get("REQUEST_METHOD") != "PUT":
            status, headers, payload = cognito_import.s3_error(
                405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
            return _reply(start_response, status, payload, headers)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(
            environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        headers = {}
        for k, v in environ.items():
            if k.startswith("HTTP_"):
                headers[k[5:].replace("_", "-").lower()] = v
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        status, hdrs, payload = cognito_import.handle_upload(job_id, query, headers, body)
        return _reply(start_response, status, payload, hdrs)


def _stdin_is_pipe() -> bool:
    import stat
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def main() -> None:
    ap = argparse.ArgumentParser(description="cognito-sync local emulator (moto + import jobs)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = a free port")
    ap.add_argument("--no-stdin-watch", action="store_true",
                    help="do not exit when stdin reaches EOF (for backgrounded scripts)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args()

    import logging
    # Quiet by default: a harness that pipes stderr without reading it must never block.
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.ERROR)

    moto_patches.install()
    cognito_import.install()

    server = make_server(args.host, args.port, Emulator(), threaded=True,
                         request_handler=MotoRequestHandler)
    port = server.server_address[1]
    host = args.host if args.host not in ("0.0.0.0", "::") else "127.0.0.1"
    base = f"http://{host}:{port}"
    cognito_import.BASE_URL["url"] = base
    stop = threading.Event()

    def _stop(*_a):
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()

    # Stop when stdin reaches EOF (the Rust harness keeps a pipe open for the server's
    # lifetime and the pipe closes when the test process exits). Only a pipe or socket
    # is watched: a TTY (interactive: Ctrl-C stops it), /dev/null, a regular file or a
    # closed stdin would say nothing about a parent's lifetime.
    if not args.no_stdin_watch and _stdin_is_pipe():
        def _watch():
            try:
                while sys.stdin.buffer.read(65536):
                    pass
            except Exception:
                pass
            stop.set()
        threading.Thread(target=_watch, name="stdin-watch", daemon=True).start()

    # The socket is bound and listening: answer one request before announcing readiness.
    import urllib.request
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/_emulator/health", timeout=2).read()
            break
        except Exception:
            time.sleep(0.05)
    sys.stdout.write(f"ready {base}\n")
    sys.stdout.flush()
    print(f"emulator: listening on {base} (moto server + Cognito import jobs)", file=sys.stderr)

    while not stop.wait(0.5):
        pass
    print("emulator: stopping", file=sys.stderr)
    server.shutdown()
    # daemon job threads die with the process
    os._exit(0)


if __name__ == "__main__":
    main()
