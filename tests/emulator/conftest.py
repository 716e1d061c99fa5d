"""Fixtures of the emulator's own tests: one emulator per session (started through
`emulator serve`, exactly as the Rust harness starts it: piped stdin, ready line), boto3
clients with a fresh access key per test (faults/counters are scoped by access key)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

HERE = Path(__file__).resolve().parent
EMULATOR = HERE / "emulator"
REGION = "us-east-1"
ACCOUNT = "123456789012"

# Short timings for the suite (restored after tests that change them).
SUITE_CONFIG = {"rows_per_second": 2000, "pending_seconds": 0.05, "expiry_seconds": 86400,
                "url_expiry_seconds": 900, "failure_share": 0.5, "stopping_seconds": 0.05,
                "start_refusal_code": "PreconditionNotMetException", "log_line_numbering": "data_rows",
                "latency_ms": 0, "operation_latency_ms": {}, "list_users_per_user_ms": 0,
                "quotas": {}, "quota_scope": "account", "token_ttl_seconds": 3600}

TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "cognito-idp.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
LOGS_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
               "logs:PutLogEvents"],
    "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/cognito/*"}]}


def start_server(*extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([str(EMULATOR), "serve", *extra], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert line.startswith("ready http://127.0.0.1:"), f"unexpected first line: {line!r}"
    return proc, line.split()[1]


@pytest.fixture(scope="session")
def endpoint():
    url = os.environ.get("EMULATOR_ENDPOINT")   # reuse a running emulator when given
    proc = None
    if not url:
        proc, url = start_server()
    control(url, "POST", "/_emulator/config", SUITE_CONFIG)
    yield url
    if proc is not None:
        proc.stdin.close()          # EOF on stdin stops the server
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def control(url: str, method: str, path: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def put(url: str, data: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=data, method="PUT", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


SSE = {"x-amz-server-side-encryption": "aws:kms"}


class Aws:
    """boto3 clients + helpers for one test, with its own access key."""

    def __init__(self, endpoint: str, retries: int = 1):
        self.endpoint = endpoint
        self.akid = "AKIA" + uuid.uuid4().hex[:16].upper()
        cfg = Config(retries={"total_max_attempts": retries, "mode": "standard"})
        kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=self.akid,
                  aws_secret_access_key="emulator", config=cfg)
        self.idp = boto3.client("cognito-idp", **kw)
        self.iam = boto3.client("iam", **kw)
        self.logs = boto3.client("logs", **kw)
        self._kw = kw
        self.jobs: list[tuple[str, str]] = []

    def client(self, service: str, **cfg):
        kw = dict(self._kw)
        kw["config"] = Config(**cfg)
        return boto3.client(service, **kw)

    # control API ------------------------------------------------------------------
    def faults(self, spec):
        assert control(self.endpoint, "POST", f"/_emulator/faults?access_key={self.akid}", spec)[0] == 200

    def clear_faults(self):
        control(self.endpoint, "DELETE", f"/_emulator/faults?access_key={self.akid}")

    def counts(self) -> dict[str, int]:
        return control(self.endpoint, "GET", f"/_emulator/counts?access_key={self.akid}")[1]

    # Cognito ----------------------------------------------------------------------
    def pool(self, name: str | None = None, **kw) -> str:
        kw.setdefault("AutoVerifiedAttributes", ["email"])
        return self.idp.create_user_pool(PoolName=name or f"p{uuid.uuid4().hex[:8]}", **kw)["UserPool"]["Id"]

    def role(self, name: str | None = None, trust=TRUST, policy=LOGS_POLICY) -> str:
        name = name or f"r{uuid.uuid4().hex[:10]}"
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        if policy is not None:
            self.iam.put_role_policy(RoleName=name, PolicyName="logs", PolicyDocument=json.dumps(policy))
        return arn

    def header(self, pool_id: str) -> list[str]:
        return self.idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]

    def job(self, pool_id: str, role_arn: str | None = None, name: str = "job") -> dict:
        job = self.idp.create_user_import_job(UserPoolId=pool_id, JobName=name,
                                              CloudWatchLogsRoleArn=role_arn or self.role())["UserImportJob"]
        self.jobs.append((pool_id, job["JobId"]))
        return job

    def describe(self, pool_id: str, job_id: str) -> dict:
        return self.idp.describe_user_import_job(UserPoolId=pool_id, JobId=job_id)["UserImportJob"]

    def wait(self, pool_id: str, job_id: str, timeout: float = 20, until=("Succeeded", "Failed", "Stopped", "Expired")) -> dict:
        deadline = time.time() + timeout
        while True:
            j = self.describe(pool_id, job_id)
            if j["Status"] in until:
                return j
            assert time.time() < deadline, f"job still {j['Status']}"
            time.sleep(0.05)

    def run(self, pool_id: str, rows: list[dict[str, str]], header: list[str] | None = None,
            role_arn: str | None = None, raw: bytes | None = None) -> dict:
        """Create a job, upload rows (dicts keyed by column), start, wait; returns the job."""
        job = self.job(pool_id, role_arn)
        data = raw if raw is not None else csv_bytes(header or self.header(pool_id), rows)
        status, body = put(job["PreSignedUrl"], data, SSE)
        assert status == 200, body
        self.idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
        return self.wait(pool_id, job["JobId"])

    def log_lines(self, pool_id: str, job: dict) -> list[str]:
        pool_name = self.idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Name"]
        events = self.logs.get_log_events(
            logGroupName=f"/aws/cognito/userpools/{pool_id}/{pool_name}",
            logStreamName=f"{job['JobId']}/{job['JobName']}", startFromHead=True)["events"]
        return [e["message"] for e in events]

    def cleanup(self):
        self.clear_faults()
        for pool_id, job_id in self.jobs:
            try:
                j = self.describe(pool_id, job_id)
                if j["Status"] in ("Pending", "InProgress"):
                    self.idp.stop_user_import_job(UserPoolId=pool_id, JobId=job_id)
                if j["Status"] in ("Pending", "InProgress", "Stopping"):
                    self.wait(pool_id, job_id)
            except Exception:
                pass


def esc(v: str) -> str:
    return v.replace(",", "\\,")   # Cognito's dialect [CSV]


def csv_bytes(header: list[str], rows: list[dict[str, str]]) -> bytes:
    lines = [",".join(header)]
    for r in rows:
        lines.append(",".join(esc(r.get(c, "")) for c in header))
    return ("\n".join(lines) + "\n").encode()


def user(name: str, **attrs) -> dict[str, str]:
    row = {"cognito:username": name, "email": f"{name.lower()}@example.com", "email_verified": "true"}
    row.update({k.replace("__", ":"): v for k, v in attrs.items()})
    return row


@pytest.fixture
def aws(endpoint):
    a = Aws(endpoint)
    yield a
    a.cleanup()


@pytest.fixture
def config(endpoint):
    """Change the global emulator config for one test; restored afterwards."""
    def set_(**kw):
        status, body = control(endpoint, "POST", "/_emulator/config", kw)
        assert status == 200, body
    yield set_
    control(endpoint, "POST", "/_emulator/config", SUITE_CONFIG)
