"""The conformance kit: one command that checks, against a real AWS account, every
behaviour the emulator marks as chosen because Cognito does not document it.

    tests/conformance/run --profile P --region R          # a real account (asks first)
    tests/conformance/run --endpoint-url http://127.0.0.1:PORT --yes   # the emulator

It creates throw-away user pools and IAM roles (named and tagged
`cognito-sync-conformance-<run id>`), runs the probes of probes.py, deletes everything it
created (also on Ctrl-C / SIGTERM) and prints a table: behaviour, the emulator's choice,
the answer of the target, match or differ (`--json`: the same as JSON). Every pool
operation goes through `Lab.own`, which refuses any pool this run did not create.

The emulator's choices are read from the emulator's own switch table
(tests/emulator/emu_state.py, CHOICES): a probe's answer is one of a switch's values, so
the emulator with a switch flipped answers exactly that switch's alternative.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "emulator"))

import emu_state  # noqa: E402  (the emulator's switch table; no server is started)

TAG = "cognito-sync-conformance"
SSE = {"x-amz-server-side-encryption": "aws:kms"}
FINISHED = ("Succeeded", "Failed", "Stopped", "Expired")
MSG_EXISTS = "The user already exists."

TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "cognito-idp.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def logs_policy(region: str, account: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
                   "logs:PutLogEvents"],
        "Resource": f"arn:aws:logs:{region}:{account}:log-group:/aws/cognito/*"}]}


# --------------------------------------------------------------------------------------
# Probe registry
# --------------------------------------------------------------------------------------

class Pending(Exception):
    """A probe asked for rows of a batch job that has not run yet (first pass)."""


class Refused(Exception):
    """The kit was about to touch something it did not create."""


class NotRun(Exception):
    """A probe that was not run (e.g. an expensive one without --expensive)."""


# How long the pacing probes wait and how hard they push. On a real account: Cognito's
# documented hour for a pagination token (its probes need --slow), and a burst at a
# category's quota (--throttle). Against the emulator the kit sets a short token lifetime
# and small quotas for its own access key (the control API), so the same probe functions
# run in seconds.
REAL_TOKEN_TTL, REAL_TOKEN_MARGIN = 3600.0, 300.0
EMULATOR_TOKEN_TTL, EMULATOR_TOKEN_MARGIN = 0.8, 0.2
# Quotas assumed on a real account (the documented defaults [QUOTAS]; UserImportJob is the
# emulator's guess) and set on the emulator for the kit's access key while a quota probe
# runs (small, so that a burst is short; UserImportJob and LimitManagement keep the values
# the emulator claims, as their probes measure them).
# Seconds a category is kept saturated before the operation in question is sent.
REAL_DRAIN, EMULATOR_DRAIN = 1.0, 0.15
REAL_QUOTAS = {"UserPoolRead": 15, "UserPoolResourceRead": 20, "UserPoolResourceUpdate": 15,
               "UserResourceUpdate": 25, "UserUpdate": 25, "LimitManagement": 1,
               "UserImportJob": 5}
EMULATOR_QUOTAS = {"UserPoolRead": 8, "UserPoolResourceRead": 8, "UserPoolResourceUpdate": 8,
                   "UserResourceUpdate": 8, "UserUpdate": 8, "LimitManagement": 1,
                   "UserImportJob": 5}


@dataclass
class Probe:
    name: str
    fn: Callable[["Lab"], Any]
    jobs: int
    behaviour: str


PROBES: list[Probe] = []


def probe(behaviour: str, jobs: int = 0):
    """Register a probe. Its name is the behaviour's switch (emu_state.CHOICES); it
    returns one of the switch's values, or "other: ...", and optionally a detail."""
    def deco(fn):
        PROBES.append(Probe(fn.__name__, fn, jobs, behaviour))
        return fn
    return deco


def choice_of(name: str) -> str:
    values = emu_state.CHOICES.get(name)
    return values[0] if values else "(no emulator switch)"


# --------------------------------------------------------------------------------------
# The lab: clients, throw-away resources, jobs, batches
# --------------------------------------------------------------------------------------

@dataclass
class RowResult:
    outcome: str          # SUCCEEDED / SKIPPED / FAILED / "(no log line)"
    reason: str
    username: str
    kind: str
    lab: "Lab" = field(repr=False)

    def attributes(self) -> dict[str, str]:
        """The imported user's attributes (by username; empty when there is none)."""
        try:
            u = self.lab.idp.admin_get_user(UserPoolId=self.lab.pool(self.kind),
                                            Username=self.username)
        except ClientError:
            return {}
        return {a["Name"]: a["Value"] for a in u.get("UserAttributes", [])}

    def __str__(self) -> str:
        return f"{self.outcome} {self.reason}".strip()


@dataclass
class JobRun:
    job: dict[str, Any]
    lines: list[tuple[str, int, str]]   # (outcome, line number, reason)

    @property
    def status(self) -> str:
        return self.job["Status"]

    @property
    def message(self) -> str:
        return self.job.get("CompletionMessage", "")

    def counts(self) -> tuple[int, int, int]:
        j = self.job
        return j.get("ImportedUsers", 0), j.get("SkippedUsers", 0), j.get("FailedUsers", 0)

    def __str__(self) -> str:
        i, s, f = self.counts()
        msg = f" {self.message!r}" if self.message else ""
        return f"{self.status}{msg} (imported {i}, skipped {s}, failed {f})"


LOG_LINE = re.compile(r"^\s*\[(SUCCEEDED|SKIPPED|FAILED)\]\s+Line Number\s+(\d+)\s*-\s*(.*?)\s*$")

POOL_KINDS: dict[str, dict[str, Any]] = {
    "basic": {"AutoVerifiedAttributes": ["email"],
              "Schema": [{"Name": "dept", "AttributeDataType": "String", "Mutable": True}]},
    "insensitive": {"AutoVerifiedAttributes": ["email"],
                    "UsernameConfiguration": {"CaseSensitive": False}},
    "email_username": {"AutoVerifiedAttributes": ["email"], "UsernameAttributes": ["email"]},
    "no_auto_verify": {},
    "mfa": {"AutoVerifiedAttributes": ["email"]},
}


class Lab:
    def __init__(self, session: boto3.Session, endpoint: str | None, region: str,
                 expensive: bool, role_wait: float, say: Callable[[str], None],
                 slow: bool = False, throttle: bool = False):
        cfg = Config(retries={"mode": "standard", "max_attempts": 8})
        kw: dict[str, Any] = {"region_name": region, "config": cfg}
        if endpoint:
            kw["endpoint_url"] = endpoint
        self.idp = session.client("cognito-idp", **kw)
        # Starts are not retried: botocore's standard mode retries LimitExceededException
        # as throttling, which would hide the answer of a start refused for another job.
        self.idp_once = session.client("cognito-idp", **{
            **kw, "config": Config(retries={"mode": "standard", "total_max_attempts": 1})})
        self.iam = session.client("iam", **kw)
        self.logs = session.client("logs", **kw)
        self.sts = session.client("sts", **kw)
        self.region = region
        self.endpoint = endpoint
        credentials = session.get_credentials()
        self.access_key = credentials.access_key if credentials else ""
        self.emulator = False      # the target answers the emulator's control API
        self.slow = slow
        self.throttle = throttle
        self.memo: dict[str, Any] = {}   # observations shared by several probes
        self.drain = REAL_DRAIN          # set for the emulator in setup
        self.expensive = expensive
        self.role_wait = role_wait
        self.say = say
        self.run_id = secrets.token_hex(4)
        self.account = ""
        self.pools: dict[str, str] = {}          # kind -> pool id (created by this run)
        self.pool_names: dict[str, str] = {}
        self.tagged: set[str] = set()            # pools whose tag was checked
        self.roles: dict[str, str] = {}          # kind -> role ARN (created by this run)
        self.deleted_roles: set[str] = set()
        self.jobs: list[tuple[str, str]] = []    # (pool id, job id)
        self.users: set[tuple[str, str]] = set()
        self.batches: dict[str, list[tuple[tuple[str, str], list[Any]]]] = {}
        self.results: dict[tuple[str, str], list[RowResult]] = {}
        self.headers: dict[str, list[str]] = {}
        self.batch_runs: dict[str, JobRun] = {}
        self.collecting = True
        self.current = ""
        self.undeclared: list[str] = []
        self.seq = 0
        self.scope = "setup"   # the probe running (names made by `unique` are scoped by it)
        self.idp.meta.events.register("after-call.cognito-idp", self._check_declared)
        self.idp_once.meta.events.register("after-call.cognito-idp", self._check_declared)

    # declared errors ----------------------------------------------------------------
    def _check_declared(self, http_response=None, parsed=None, model=None, **_kw):
        code = (parsed or {}).get("Error", {}).get("Code")
        if not code or model is None:
            return
        declared = {s.name for s in model.error_shapes}
        if code not in declared:
            self.undeclared.append(f"{model.name} answered {code}, which the service model "
                                   "does not declare for it")

    # naming, ownership ---------------------------------------------------------------
    def name(self, kind: str) -> str:
        return f"{TAG}-{self.run_id}-{kind}"

    def own(self, pool_id: str, fresh: bool = False) -> str:
        """Refuse any pool this run did not create: its id must be one this run created,
        and the pool must carry this run's tag (read once, and again when `fresh`)."""
        if pool_id not in self.pools.values():
            raise Refused(f"refusing to touch user pool {pool_id}: this run did not create it")
        if fresh or pool_id not in self.tagged:
            tags = self.idp.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("UserPoolTags") or {}
            if tags.get(TAG) != self.run_id:
                raise Refused(f"refusing to touch user pool {pool_id}: it lacks the tag {TAG}={self.run_id}")
            self.tagged.add(pool_id)
        return pool_id

    # pacing probes --------------------------------------------------------------------
    @contextmanager
    def on_emulator(self, **values: Any):
        """Against the emulator: these fault keys for this run's access key while the block
        runs (e.g. a short `token_ttl_seconds`, small `quotas`), then the previous ones.
        Against anything else: nothing."""
        if not self.emulator:
            yield
            return
        url = f"{self.endpoint.rstrip('/')}/_emulator/faults"
        params = {"access_key": self.access_key}
        before = requests.get(url, params=params, timeout=10).json().get("faults") or {}
        r = requests.post(url, params=params, json={**before, **values}, timeout=10)
        r.raise_for_status()
        try:
            yield
        finally:
            if before:
                requests.post(url, params=params, json=before, timeout=10)
            else:
                requests.delete(url, params=params, timeout=10)

    def token_wait(self) -> tuple[float, float]:
        """(a token's lifetime, a margin) for the token probes: the documented hour on a
        real account (only with --slow), a second against the emulator."""
        if self.emulator:
            return EMULATOR_TOKEN_TTL, EMULATOR_TOKEN_MARGIN
        if not self.slow:
            raise NotRun("waits over an hour for pagination tokens to expire; pass --slow")
        return REAL_TOKEN_TTL, REAL_TOKEN_MARGIN

    @contextmanager
    def quotas(self):
        """While a quota probe runs: the quotas it may assume. Against the emulator they
        are enforced for this run's access key alone, from fresh buckets; on a real account
        they are the documented ones, and the probe runs only with --throttle."""
        if not (self.emulator or self.throttle):
            raise NotRun("throttles the account's request quotas for a few seconds; pass --throttle")
        table = EMULATOR_QUOTAS if self.emulator else REAL_QUOTAS
        with self.on_emulator(quotas=table):
            if not self.emulator:
                self.rest()
            yield dict(table)

    def rest(self) -> None:
        """Between two bursts of a quota probe: every quota bucket full again (a quiet spell
        on a real account; against the emulator, this key's buckets are reset)."""
        if not self.emulator:
            time.sleep(2.0)
            return
        url = f"{self.endpoint.rstrip('/')}/_emulator/faults"
        params = {"access_key": self.access_key}
        spec = requests.get(url, params=params, timeout=10).json().get("faults") or {}
        requests.post(url, params=params, json=spec, timeout=10).raise_for_status()

    def redact(self, text: str) -> str:
        return text.replace(self.account, "<account>") if self.account else text

    # set-up ------------------------------------------------------------------------
    def setup(self) -> None:
        self.account = self.sts.get_caller_identity()["Account"]
        if self.endpoint:
            try:
                r = requests.get(f"{self.endpoint.rstrip('/')}/_emulator/health", timeout=10)
                self.emulator = r.status_code == 200 and r.json().get("ok") is True
            except (requests.RequestException, ValueError):
                self.emulator = False
        if self.emulator:
            self.drain = EMULATOR_DRAIN
        # Roles first: a new role takes a while to become assumable by Cognito.
        policy = logs_policy(self.region, self.account)
        source_trust = json.loads(json.dumps(TRUST))
        source_trust["Statement"][0]["Condition"] = {
            "StringEquals": {"aws:SourceAccount": self.account}}
        self.role("main", TRUST, policy)
        self.role("source_account", source_trust, policy)
        self.role("no_logs", TRUST, None)
        self.role("doomed", TRUST, policy)

    def role(self, kind: str, trust: dict[str, Any], policy: dict[str, Any] | None) -> str:
        name = self.name(kind)
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                                   Description="cognito-sync conformance kit (throw-away)",
                                   Tags=[{"Key": TAG, "Value": self.run_id}])["Role"]["Arn"]
        self.roles[kind] = arn
        if policy is not None:
            self.iam.put_role_policy(RoleName=name, PolicyName="logs",
                                     PolicyDocument=json.dumps(policy))
        return arn

    def delete_role(self, kind: str) -> None:
        name = self.name(kind)
        if kind not in self.roles or kind in self.deleted_roles:
            return
        for p in self.iam.list_role_policies(RoleName=name).get("PolicyNames", []):
            self.iam.delete_role_policy(RoleName=name, PolicyName=p)
        self.iam.delete_role(RoleName=name)
        self.deleted_roles.add(kind)

    def pool(self, kind: str) -> str:
        if kind in self.pools:
            return self.pools[kind]
        name = self.name(kind)
        pool_id = self.idp.create_user_pool(PoolName=name, UserPoolTags={TAG: self.run_id},
                                            **POOL_KINDS[kind])["UserPool"]["Id"]
        self.pools[kind] = pool_id
        self.pool_names[kind] = name
        if kind == "mfa":
            self.idp.set_user_pool_mfa_config(
                UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration="OPTIONAL")
        self.own(pool_id)
        return pool_id

    def header(self, kind: str) -> list[str]:
        if kind not in self.headers:
            self.headers[kind] = self.idp.get_csv_header(UserPoolId=self.pool(kind))["CSVHeader"]
        return list(self.headers[kind])

    def existing_user(self, kind: str, username: str, email: str) -> None:
        """A user that exists before the batch job runs (AdminCreateUser, no message)."""
        if (kind, username) in self.users:
            return
        self.idp.admin_create_user(
            UserPoolId=self.own(self.pool(kind)), Username=username, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": email},
                            {"Name": "email_verified", "Value": "true"}])
        self.users.add((kind, username))

    # files -------------------------------------------------------------------------
    def unique(self, stem: str) -> str:
        """A name unique in this run, and the same in both passes of a probe."""
        self.seq += 1
        return f"{stem}-{self.run_id}-{self.scope}-{self.seq}"

    def user_row(self, username: str | None = None, **values: str) -> dict[str, str]:
        username = self.unique("u") if username is None else username
        row = {"cognito:username": username, "email": f"{username.lower()}@example.com",
               "email_verified": "true"}
        row.update(values)
        return row

    @staticmethod
    def line(header: list[str], row: dict[str, str] | str) -> str:
        if isinstance(row, str):
            return row
        return ",".join(row.get(c, "").replace(",", "\\,") for c in header)

    def csv(self, header: list[str], rows: list[dict[str, str] | str], eol: str = "\n") -> bytes:
        return (eol.join([",".join(header)] + [self.line(header, r) for r in rows]) + eol).encode()

    # jobs ----------------------------------------------------------------------------
    def create_job(self, kind: str, role: str = "main", retry: bool = True,
                   role_arn: str | None = None, algorithm: str | None = None) -> dict[str, Any]:
        pool_id = self.own(self.pool(kind))
        arn = role_arn or self.roles[role]
        deadline = time.time() + (self.role_wait if retry else 0)
        delay = 1.0
        while True:
            try:
                extra = {"PasswordHashingAlgorithm": algorithm} if algorithm else {}
                job = self.idp.create_user_import_job(
                    UserPoolId=pool_id, JobName=self.unique("probe"),
                    CloudWatchLogsRoleArn=arn, **extra)["UserImportJob"]
                break
            except ClientError as e:
                # A just-created role is not assumable at once (IAM propagation).
                if e.response["Error"]["Code"] != "InvalidParameterException" or time.time() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 10)
        self.jobs.append((pool_id, job["JobId"]))
        return job

    @staticmethod
    def upload(job: dict[str, Any], data: bytes, headers: dict[str, str] | None = None
               ) -> tuple[int, str]:
        r = requests.put(job["PreSignedUrl"], data=data,
                         headers=SSE if headers is None else headers, timeout=300)
        return r.status_code, r.text

    def start(self, job: dict[str, Any]) -> dict[str, Any]:
        return self.idp_once.start_user_import_job(UserPoolId=self.own(job["UserPoolId"]),
                                              JobId=job["JobId"])["UserImportJob"]

    def describe(self, job: dict[str, Any]) -> dict[str, Any]:
        return self.idp.describe_user_import_job(UserPoolId=job["UserPoolId"],
                                                 JobId=job["JobId"])["UserImportJob"]

    def wait(self, job: dict[str, Any], timeout: float = 1800,
             give_up: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        deadline = time.time() + timeout
        delay = 0.05
        while True:
            j = self.describe(job)
            if j["Status"] in FINISHED:
                return j
            if give_up is not None and give_up(j):
                return j
            if time.time() > deadline:
                raise TimeoutError(f"job {j['JobId']} still {j['Status']} after {timeout:.0f} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)

    def log_lines(self, kind: str, job: dict[str, Any], expected: int) -> list[tuple[str, int, str]]:
        group = f"/aws/cognito/userpools/{self.pools[kind]}/{self.pool_names[kind]}"
        stream = f"{job['JobId']}/{job['JobName']}"
        deadline = time.time() + (60 if expected else 0)
        while True:
            lines: list[tuple[str, int, str]] = []
            try:
                kw: dict[str, Any] = {"logGroupName": group, "logStreamName": stream,
                                      "startFromHead": True}
                while True:
                    page = self.logs.get_log_events(**kw)
                    for e in page["events"]:
                        m = LOG_LINE.match(e["message"])
                        if m:
                            lines.append((m.group(1), int(m.group(2)), m.group(3)))
                    token = page.get("nextForwardToken")
                    if not page["events"] or token == kw.get("nextToken"):
                        break
                    kw["nextToken"] = token
            except ClientError:
                pass   # the group or stream is not there (yet)
            if len(lines) >= expected or time.time() > deadline:
                return lines
            time.sleep(2)   # CloudWatch delivers log events with a delay

    def run_file(self, kind: str, data: bytes, rows: int = 0, role: str = "main",
                 give_up: Callable[[dict[str, Any]], bool] | None = None,
                 algorithm: str | None = None) -> JobRun:
        """Create a job (with `PasswordHashingAlgorithm` `algorithm`), upload `data`, start
        it, wait; `rows` log lines are awaited."""
        job = self.create_job(kind, role, algorithm=algorithm)
        status, body = self.upload(job, data)
        if status != 200:
            raise RuntimeError(f"upload answered HTTP {status}: {body[:200]}")
        self.start(job)
        done = self.wait(job, give_up=give_up)
        # One log line per processed row: a job that failed as a whole (e.g. an algorithm
        # named with no password_hash column) processed none, so none are awaited.
        processed = sum(done.get(k, 0) for k in ("ImportedUsers", "SkippedUsers", "FailedUsers"))
        lines = self.log_lines(kind, done, min(rows, processed)) if done["Status"] in FINISHED else []
        return JobRun(done, lines)

    def good_rows(self, n: int, **values: str) -> list[dict[str, str]]:
        return [self.user_row(**values) for _ in range(n)]

    # batches: rows of many probes in one job per pool kind ----------------------------
    def rows(self, kind: str, rows: list[dict[str, str] | str]) -> list[RowResult]:
        key = (self.current, kind)   # one call per probe and pool kind
        if key in self.results:
            return self.results[key]
        if not self.collecting:
            raise RuntimeError(f"probe {self.current} asked for rows after its batch ran")
        self.batches.setdefault(kind, []).append((key, rows))
        raise Pending

    def batch_run(self, kind: str) -> JobRun:
        """The batch job of a pool kind (runs with the batch)."""
        if kind in self.batch_runs:
            return self.batch_runs[kind]
        if not self.collecting:
            raise RuntimeError(f"no batch job ran in the {kind} pool")
        self.batches.setdefault(kind, [])
        raise Pending

    def run_batches(self) -> None:
        self.collecting = False
        for kind, entries in self.batches.items():
            probe_rows = [r for _, rows in entries for r in rows]
            # Valid filler rows first, more of them than probe rows, so the job stays
            # under any plausible failure threshold whatever the probes' rows do.
            self.scope, self.seq = f"fill-{kind}", 0
            fillers = self.good_rows(len(probe_rows) + 2)
            header = self.header(kind)
            all_rows = fillers + probe_rows
            self.say(f"batch job in the {kind} pool: {len(all_rows)} rows")
            run = self.run_file(kind, self.csv(header, all_rows), rows=len(all_rows))
            self.batch_runs[kind] = run
            first = min((n for _, n, _ in run.lines), default=1)
            by_line = {n - first: (o, reason) for o, n, reason in run.lines}
            index = len(fillers)
            for key, rows in entries:
                results = []
                for r in rows:
                    o, reason = by_line.get(index, ("(no log line)", ""))
                    name = r.get("cognito:username", "") if isinstance(r, dict) else ""
                    results.append(RowResult(o, reason, name, kind, self))
                    index += 1
                self.results[key] = results

    # clean-up ------------------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """Delete everything this run created. Returns what could not be deleted."""
        left: list[str] = []
        for pool_id, job_id in self.jobs:
            try:
                j = self.idp.describe_user_import_job(UserPoolId=pool_id, JobId=job_id)["UserImportJob"]
                if j["Status"] in ("Pending", "InProgress"):
                    self.idp.stop_user_import_job(UserPoolId=self.own(pool_id), JobId=job_id)
            except (ClientError, BotoCoreError, Refused):
                pass
        for kind, pool_id in self.pools.items():
            try:
                self.own(pool_id, fresh=True)
                self.idp.delete_user_pool(UserPoolId=pool_id)
            except (ClientError, BotoCoreError, Refused) as e:
                left.append(f"user pool {pool_id} ({self.name(kind)}): {e}")
            try:
                prefix = f"/aws/cognito/userpools/{pool_id}/"
                groups = self.logs.describe_log_groups(logGroupNamePrefix=prefix).get("logGroups", [])
                for g in groups:
                    self.logs.delete_log_group(logGroupName=g["logGroupName"])
            except (ClientError, BotoCoreError) as e:
                left.append(f"log groups /aws/cognito/userpools/{pool_id}/*: {e}")
        for kind in list(self.roles):
            try:
                self.delete_role(kind)
            except (ClientError, BotoCoreError) as e:
                left.append(f"IAM role {self.name(kind)}: {e}")
        return left


# --------------------------------------------------------------------------------------
# Running, reporting
# --------------------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    behaviour: str
    choice: str
    answer: str
    result: str     # match / differ / not run / error
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"probe": self.name, "behaviour": self.behaviour, "emulator_choice": self.choice,
                "answer": self.answer, "result": self.result, "detail": self.detail,
                "source": f"tests/conformance/probes.py ({self.name})"}


def run_probes(lab: Lab, selected: list[Probe]) -> list[Row]:
    answers: dict[str, tuple[str, str, str]] = {}
    pending: list[Probe] = []

    def attempt(p: Probe) -> None:
        lab.current = p.name
        lab.scope, lab.seq = str(selected.index(p)), 0
        try:
            out = p.fn(lab)
            answer, detail = out if isinstance(out, tuple) else (out, "")
            answer, detail = str(answer), str(detail)
            result = "match" if answer == choice_of(p.name) else "differ"
            answers[p.name] = (answer, result, detail)
        except Pending:
            pending.append(p)
        except NotRun as e:
            answers[p.name] = ("-", "not run", str(e))
        except Refused:
            raise
        except Exception as e:  # noqa: BLE001 - one probe's surprise must not end the run
            answers[p.name] = ("-", "error", f"{type(e).__name__}: {e}")

    for p in selected:
        lab.say(f"probe {p.name}")
        attempt(p)
    if pending:
        lab.run_batches()
        for p in pending:
            attempt(p)
    rows = []
    for p in selected:
        answer, result, detail = answers[p.name]
        rows.append(Row(p.name, p.behaviour, choice_of(p.name), lab.redact(answer), result,
                        lab.redact(detail)))
    return rows


def table(rows: list[Row]) -> str:
    head = ("behaviour (probe)", "emulator's choice", "answer", "")
    body = [(r.name, r.choice, r.answer, r.result) for r in rows]
    widths = [min(48, max(len(x[i]) for x in [head, *body])) for i in range(4)]

    def fmt(cells):
        out = []
        for c, w in zip(cells, widths):
            c = c if len(c) <= w else c[: w - 1] + "…"
            out.append(c.ljust(w))
        return "  ".join(out).rstrip()
    lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(b) for b in body]
    return "\n".join(lines)


def cost_statement(selected: list[Probe], endpoint: str | None, slow: bool = False,
                   throttle: bool = False) -> str:
    jobs = sum(p.jobs for p in selected) + 5   # + one batch job per pool kind at most
    target = f"the endpoint {endpoint}" if endpoint else "your AWS account"
    opt_in = []
    if slow:
        opt_in.append(
            f"  --slow: the pagination-token probes wait {(REAL_TOKEN_TTL + REAL_TOKEN_MARGIN) / 60:.0f} "
            "minutes (a token's documented hour, and a margin);\n"
            "    against the emulator they wait a few seconds.\n")
    else:
        opt_in.append("  Not run without --slow: the pagination-token probes (they wait over an hour).\n")
    if throttle:
        opt_in.append(
            "  --throttle: the quota probes send bursts above a category's request quota\n"
            "    (UserPoolRead, UserPoolResourceRead/Update, UserResourceUpdate, UserUpdate,\n"
            "    LimitManagement), a second or two each, about 20 seconds in all: other clients of\n"
            "    this account and Region (your production app) may be throttled meanwhile.\n")
    else:
        opt_in.append("  Not run without --throttle: the quota probes (they throttle the account briefly).\n")
    return (
        f"The conformance kit will, in {target}:\n"
        f"  - create up to {len(POOL_KINDS)} throw-away user pools and 4 IAM roles named "
        f"{TAG}-<run id>-*,\n"
        f"  - run about {jobs} user import jobs in them, one at a time (Cognito allows one "
        "active import job per account and Region: do not run your own imports meanwhile),\n"
        "    importing a few hundred test users (example.com addresses, no messages sent),\n"
        "  - create 101 groups in one of the pools and add a test user to 100 of them,\n"
        "  - write a few KB to CloudWatch Logs,\n"
        "  - then delete all of it, also when interrupted (Ctrl-C).\n"
        "Cost: user pools, import jobs and IAM roles are not billed; imported users that never\n"
        "sign in are not monthly active users; the CloudWatch Logs ingestion is well under $0.01.\n"
        "Time: import jobs take one to a few minutes each on Cognito, so expect 15-40 minutes.\n"
        + "".join(opt_in).rstrip("\n"))


def main(argv: list[str] | None = None) -> int:
    import probes  # noqa: F401  (registers the probes)

    ap = argparse.ArgumentParser(prog="tests/conformance/run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    ap.add_argument("--region", help="AWS Region (default: the profile's or AWS_REGION)")
    ap.add_argument("--endpoint-url", help="send every request here (e.g. the emulator)")
    ap.add_argument("--yes", action="store_true", help="do not ask before creating resources")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--only", help="comma-separated probe names")
    ap.add_argument("--expensive", action="store_true",
                    help="also run probes that upload a 500,001-row file")
    ap.add_argument("--slow", action="store_true",
                    help="also run probes that wait over an hour (pagination tokens expiring)")
    ap.add_argument("--throttle", action="store_true",
                    help="also run probes that throttle the account's request quotas for a few "
                         "seconds each (your production clients of this account and Region "
                         "may be throttled meanwhile)")
    ap.add_argument("--role-wait", type=float, default=None,
                    help="seconds to wait for a new role to become assumable (AWS: 90)")
    ap.add_argument("--list", action="store_true", help="list the probes and exit")
    args = ap.parse_args(argv)

    selected = PROBES
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = sorted(set(names) - {p.name for p in PROBES})
        if unknown:
            print(f"error: unknown probe(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
        selected = [p for p in PROBES if p.name in names]
    if args.list:
        for p in selected:
            print(f"{p.name}\t{choice_of(p.name)}\t{p.behaviour}")
        return 0

    def say(msg: str) -> None:
        print(f"conformance: {msg}", file=sys.stderr, flush=True)

    print(cost_statement(selected, args.endpoint_url, slow=args.slow, throttle=args.throttle),
          file=sys.stderr)
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: not confirmed (no terminal to ask on)\nhelp: pass --yes to run "
                  "without asking", file=sys.stderr)
            return 2
        if input("Continue? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing created", file=sys.stderr)
            return 2

    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
    except BotoCoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    region = session.region_name or os.environ.get("AWS_REGION")
    if not region:
        print("error: no AWS Region\nhelp: pass --region or set AWS_REGION", file=sys.stderr)
        return 2
    role_wait = args.role_wait if args.role_wait is not None else (5 if args.endpoint_url else 90)
    lab = Lab(session, args.endpoint_url, region, args.expensive, role_wait, say,
              slow=args.slow, throttle=args.throttle)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupted)
    started = time.time()
    rows: list[Row] = []
    code = 0
    try:
        lab.setup()
        say(f"run {lab.run_id} in {region}; resources are named {TAG}-{lab.run_id}-*")
        rows = run_probes(lab, selected)
    except KeyboardInterrupt:
        say("interrupted: cleaning up")
        code = 130
    except Refused as e:
        print(f"error: {e}", file=sys.stderr)
        code = 2
    except (ClientError, BotoCoreError) as e:
        print(f"error: {lab.redact(str(e))}", file=sys.stderr)
        code = 1
    finally:
        # A second Ctrl-C must not abandon the clean-up half-way.
        signal.signal(signal.SIGINT, lambda *_: say("still cleaning up, please wait"))
        signal.signal(signal.SIGTERM, lambda *_: say("still cleaning up, please wait"))
        left = lab.cleanup()
        for item in left:
            print(f"warning: not deleted: {lab.redact(item)}", file=sys.stderr)
        if not left:
            say("every pool, role and log group this run created is deleted")
    if code:
        return code

    undeclared = sorted(set(lab.undeclared))
    if args.json:
        print(json.dumps({
            "kit": "cognito-sync conformance kit",
            "target": "endpoint" if args.endpoint_url else "aws",
            "region": region,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "seconds": round(time.time() - started, 1),
            "botocore": __import__("botocore").__version__,
            "probes": [r.to_json() for r in rows],
            "undeclared_errors": undeclared,
        }, indent=2))
    else:
        print(table(rows))
        matched = sum(r.result == "match" for r in rows)
        print(f"\n{matched} of {len(rows)} match", end="")
        others = [r for r in rows if r.result in ("not run", "error")]
        print(f"; {len(others)} not run or failed" if others else "")
        for r in rows:
            if r.result != "match" and r.detail:
                print(f"  {r.name}: {r.detail}")
        for u in undeclared:
            print(f"undeclared error: {u}")
        if not args.endpoint_url:
            print("\nPlease send this table to the project: open an issue on cognito-sync's "
                  f"repository titled \"conformance: {region}\" with the output of --json "
                  "attached (it holds no account id or credentials).")
    differ = any(r.result != "match" for r in rows if r.result != "not run")
    return 1 if differ or undeclared else 0


if __name__ == "__main__":
    # Run as the module `kit`, the one probes.py registers its probes with.
    sys.path.insert(0, str(HERE))
    import kit
    try:
        sys.exit(kit.main())
    except BrokenPipeError:   # e.g. `--list | head`
        sys.stderr.close()
        sys.exit(0)
