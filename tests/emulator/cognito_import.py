"""Cognito user-import jobs on top of moto's cognito-idp, IAM and CloudWatch Logs backends.

moto 5.2.5 lacks GetCSVHeader, CreateUserImportJob, StartUserImportJob,
DescribeUserImportJob, ListUserImportJobs and StopUserImportJob. moto's JSON-protocol
responses dispatch by action name (``X-Amz-Target: AWSCognitoIdentityProviderService.<Op>``
-> method ``<op_in_snake_case>`` of ``CognitoIdpResponse``), so ``install()`` adds the six
operations as methods of that class. Everything else (pools, users, IAM, logs) stays
moto's own, and imported users are created in moto's own pool objects, so ListUsers and
AdminGetUser see them, and log lines are written to moto's own logs backend, so
GetLogEvents / FilterLogEvents read them back.

Sources are cited by the short names of /work/shared/reference/cognito-import.md:
[CSV] [IMPORT] [JOB] [ROLE] [CWL] [MODEL] [QUOTAS] [ATTR] [CASE] [AWS-SAMPLE].
"UNDOCUMENTED" marks every place where Cognito's behaviour is not documented and the
emulator had to choose; the choice is the conservative one (the one that makes a client
that works against the emulator most likely to work against Cognito).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, UserStatus, cognitoidp_backends
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends

import emu_state as st
import password_hashes as ph

# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

# UNDOCUMENTED [CWL]: whether "Line Number N" counts the header row. AWS's own sample
# [AWS-SAMPLE] numbers DATA rows from 1, so the emulator does the same by default: the
# first row after the header is line 1. The config switch `log_line_numbering`
# ("header_counted") makes it 2, for testing clients against the other reading.
FIRST_DATA_LINE_NUMBER = 1


def first_data_line_number(access_key: str) -> int:
    numbering = st.fault_value(access_key, "log_line_numbering") or st.cfg("log_line_numbering")
    return FIRST_DATA_LINE_NUMBER + (1 if numbering == "header_counted" else 0)

# Standard attribute columns of GetCSVHeader, in the order of the [CSV] sample output.
# Custom attributes follow them; `cognito:mfa_enabled` and `cognito:username` come last,
# as in the CLI sample ([CSV]: the downloadable template starts with cognito:username, so
# order is irrelevant; clients must copy the header verbatim).
STANDARD_COLUMNS = [
    "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
    "profile", "picture", "website", "email", "email_verified", "gender", "birthdate",
    "zoneinfo", "locale", "phone_number", "phone_number_verified", "address", "updated_at",
]
MFA_COLUMN = "cognito:mfa_enabled"
USERNAME_COLUMN = "cognito:username"
BOOLEAN_COLUMNS = {"email_verified", "phone_number_verified", MFA_COLUMN}

MSG_SUCCEEDED = "The import succeeded."                            # [CWL]
MSG_EXISTS = "The user already exists."                            # [CWL]
MSG_NO_AUTO_VERIFIED = (                                           # [CWL]
    "The User Record does not set any of the auto verified attributes to true. "
    "(Example: email_verified to true)."
)
MSG_TOO_MANY = "Too many users have failed or been skipped during the import."  # [JOB]
MSG_STOPPED = "The Import Job was stopped by the developer."       # [JOB]

MAX_ROW_CHARS = 16000            # [CSV] [QUOTAS]
MAX_FILE_BYTES = 100 * 1024 * 1024  # [CSV] [QUOTAS]
MAX_USERS_PER_FILE = 500000      # [CSV] [QUOTAS]
MAX_JOBS_PER_POOL = 1000         # [QUOTAS]
MAX_ATTRIBUTE_CHARS = 2048       # [ATTR] [MODEL]

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")   # UNDOCUMENTED exact rule; strict-ish
EMAIL_NO_DOT_RE = re.compile(r"^[^@\s]+@[^@\s]+$")       # switch `email_without_dot`
PHONE_RE = re.compile(r"^\+[1-9]\d{1,14}$")               # E.164, [ATTR]
BIRTHDATE_RE = re.compile(r"^(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])/\d{4}$")  # [CSV]
UPDATED_AT_RE = re.compile(r"^\d+$")                      # epoch seconds [CSV]
# [MODEL] UsernameType: 1-128 chars of letters, marks, symbols, numbers, punctuation.
# Python's re has no \p{..}; "no whitespace / separators / control characters" is the
# practical equivalent.
JOB_NAME_RE = re.compile(r"^[\w\s+=,.@-]{1,128}$")        # [MODEL] UserImportJobNameType
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$")

ACTIVE = ("Pending", "InProgress", "Stopping")
FINISHED = ("Stopped", "Succeeded", "Failed", "Expired")

# Secret of the emulator's fake S3 signer (the upload URL is a credential, like S3's).
_SIGNING_SECRET = secrets.token_bytes(32)
UPLOAD_ACCESS_KEY = "ASIAEMULATORUPLOAD00"


# --------------------------------------------------------------------------------------
# Errors (Cognito JSON errors: {"__type": ..., "message": ...})
# --------------------------------------------------------------------------------------

class CognitoError(JsonRESTError):
    def __init__(self, error_type: str, message: str, status: int = 400):
        super().__init__(error_type, message)
        self.code = status


def not_found(msg: str) -> CognitoError:
    return CognitoError("ResourceNotFoundException", msg)


def invalid(msg: str) -> CognitoError:
    return CognitoError("InvalidParameterException", msg)


def precondition(msg: str) -> CognitoError:
    return CognitoError("PreconditionNotMetException", msg)


def limit_exceeded(msg: str) -> CognitoError:
    return CognitoError("LimitExceededException", msg)


# --------------------------------------------------------------------------------------
# Job model
# --------------------------------------------------------------------------------------

class Job:
    def __init__(self, account: str, region: str, pool_id: str, name: str, role_arn: str,
                 access_key: str, base_url: str):
        self.account = account
        self.region = region
        self.pool_id = pool_id
        self.name = name
        self.role_arn = role_arn
        self.access_key = access_key
        alphabet = string.ascii_letters + string.digits
        self.id = "import-" + "".join(secrets.choice(alphabet) for _ in range(10))  # [MODEL]
        self.creation = time.time()
        self.start: float | None = None
        self.completion: float | None = None
        self.status = "Created"
        self.imported = 0
        self.skipped = 0
        self.failed = 0
        self.message: str | None = None
        # CreateUserImportJob PasswordHashingAlgorithm [MODEL, SDK 1.144], echoed.
        self.algorithm: str | None = None
        self.csv: bytes | None = None
        self.stop_event = threading.Event()
        self.seq = next(_SEQ)
        self.url_date = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        # The fault key `url_expiry_seconds` sets it for one access key (parallel tests).
        self.url_expires = int(st.fault_value(access_key, "url_expiry_seconds") or st.cfg("url_expiry_seconds"))
        # UNDOCUMENTED URL format; switch `presigned_url_signed_headers` ("host": the SSE
        # header is not signed, so an upload may carry it or not).
        self.signed_headers = str(st.choice("presigned_url_signed_headers"))
        self.url = presign_url(base_url, self)

    def refresh(self) -> None:
        """Apply time-based transitions that need no worker (expiry)."""
        if self.status == "Created" and time.time() - self.creation > st.cfg("expiry_seconds"):
            # [JOB]: a Created job not started within 24-48 h expires; its data is deleted.
            self.status = "Expired"
            self.csv = None

    def finish(self, status: str, message: str | None) -> None:
        self.status = status
        if message is not None:
            self.message = message[:128]   # [MODEL] CompletionMessage is 1-128 chars
        self.completion = time.time()
        self.csv = None   # [JOB, newer copy]: the uploaded file is deleted after completion

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "JobName": self.name,
            "JobId": self.id,
            "UserPoolId": self.pool_id,
            "PreSignedUrl": self.url,
            "CreationDate": round(self.creation, 3),
            "Status": self.status,
            "CloudWatchLogsRoleArn": self.role_arn,
            "ImportedUsers": self.imported,
            "SkippedUsers": self.skipped,
            "FailedUsers": self.failed,
        }
        if self.start is not None:
            d["StartDate"] = round(self.start, 3)
        if self.completion is not None:
            d["CompletionDate"] = round(self.completion, 3)
        if self.message:
            d["CompletionMessage"] = self.message
        if self.algorithm:
            d["PasswordHashingAlgorithm"] = self.algorithm
        return d


def _seq_gen():
    n = 0
    while True:
        n += 1
        yield n


_SEQ = _seq_gen()
JOBS: dict[str, Job] = {}   # job id -> job (guarded by st.LOCK)


def _find_job(account: str, region: str, pool_id: str, job_id: str) -> Job:
    job = JOBS.get(job_id)
    if job is None or job.account != account or job.region != region or job.pool_id != pool_id:
        raise not_found(f"Import job {job_id} does not exist.")
    job.refresh()
    return job


# --------------------------------------------------------------------------------------
# Pre-signed upload URL (looks like S3's SigV4 query-string auth)
# --------------------------------------------------------------------------------------

SIGNED_HEADERS = "host;x-amz-server-side-encryption"
REQUIRED_SSE = "aws:kms"    # [JOB] [MODEL]: PUT with x-amz-server-side-encryption: aws:kms


def _string_to_sign(job_id: str, query: dict[str, str], sse_value: str | None) -> bytes:
    if query.get("X-Amz-SignedHeaders") == "host":
        sse_value = None   # the SSE header is not part of the signature
    canonical_query = "&".join(
        f"{urllib.parse.quote(k, safe='')}={urllib.parse.quote(v, safe='')}"
        for k, v in sorted(query.items()) if k != "X-Amz-Signature"
    )
    return "\n".join(
        ["PUT", f"/_upload/{job_id}", canonical_query, query.get("X-Amz-SignedHeaders", ""),
         sse_value or ""]
    ).encode()


def _sign(job_id: str, query: dict[str, str], sse_value: str | None) -> str:
    return hmac.new(_SIGNING_SECRET, _string_to_sign(job_id, query, sse_value),
                    hashlib.sha256).hexdigest()


def presign_url(base_url: str, job: Job) -> str:
    query = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{UPLOAD_ACCESS_KEY}/{job.url_date[:8]}/{job.region}/s3/aws4_request",
        "X-Amz-Date": job.url_date,
        "X-Amz-Expires": str(job.url_expires),
        "X-Amz-SignedHeaders": job.signed_headers,
    }
    query["X-Amz-Signature"] = _sign(job.id, query, REQUIRED_SSE)
    order = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
             "X-Amz-SignedHeaders", "X-Amz-Signature"]
    return f"{base_url}/_upload/{job.id}?" + "&".join(
        f"{k}={urllib.parse.quote(query[k], safe='')}" for k in order)


def s3_error(status: int, code: str, message: str, extra: dict[str, str] | None = None
             ) -> tuple[int, dict[str, str], bytes]:
    parts = [f"<Code>{code}</Code>", f"<Message>{message}</Message>"]
    for k, v in (extra or {}).items():
        parts.append(f"<{k}>{v}</{k}>")
    parts.append(f"<RequestId>{secrets.token_hex(8).upper()}</RequestId>")
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>")
    return status, {"Content-Type": "application/xml"}, body.encode()


SIG_MISMATCH_MSG = ("The request signature we calculated does not match the signature you "
                    "provided. Check your key and signing method.")


def job_for_upload(job_id: str) -> Job | None:
    with st.LOCK:
        return JOBS.get(job_id)


def handle_upload(job_id: str, query: dict[str, str], headers: dict[str, str], body: bytes
                  ) -> tuple[int, dict[str, str], bytes]:
    """PUT to the pre-signed URL. headers: lower-cased names."""
    with st.LOCK:
        job = JOBS.get(job_id)
    sig = query.get("X-Amz-Signature", "")
    # Query parameters covered by the signature: tampering, or an unknown job id, is a
    # signature mismatch, as with S3.
    if job is None or not hmac.compare_digest(sig, _sign(job_id, query, REQUIRED_SSE)):
        return s3_error(403, "SignatureDoesNotMatch", SIG_MISMATCH_MSG)
    # Expiry: S3 answers 403 AccessDenied "Request has expired". [JOB]: 15 minutes.
    try:
        signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=timezone.utc).timestamp()
        expires = int(query["X-Amz-Expires"])
    except (KeyError, ValueError):
        return s3_error(403, "SignatureDoesNotMatch", SIG_MISMATCH_MSG)
    if time.time() > signed_at + expires:
        exp = datetime.fromtimestamp(signed_at + expires, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return s3_error(403, "AccessDenied", "Request has expired",
                        {"X-Amz-Expires": str(expires), "Expires": exp, "ServerTime": now})
    # The signed header must carry exactly the signed value: a missing or different
    # x-amz-server-side-encryption changes the canonical request -> SignatureDoesNotMatch
    # (reference §5, §9.1: seen when clients sent only Content-Type: text/csv).
    if not hmac.compare_digest(sig, _sign(job_id, query, headers.get("x-amz-server-side-encryption"))):
        return s3_error(403, "SignatureDoesNotMatch", SIG_MISMATCH_MSG)
    # Any other x-amz-* header is not among SignedHeaders. Contract: SignatureDoesNotMatch.
    # (Real S3 may instead answer AccessDenied "There were headers present in the request
    # which were not signed"; either way the upload fails with 403.)
    signed = set(SIGNED_HEADERS.split(";"))
    for name in headers:
        if name.startswith("x-amz-") and name not in signed:
            return s3_error(403, "SignatureDoesNotMatch", SIG_MISMATCH_MSG)
    # Content-Type: UNDOCUMENTED whether allowed; it is not an x-amz-* header and is
    # not signed, so S3 accepts it -> accepted. Switch `upload_content_type`: refused.
    if "content-type" in headers and not st.chosen("upload_content_type"):
        return s3_error(403, "SignatureDoesNotMatch", SIG_MISMATCH_MSG)
    # Fault `hold_upload`: the upload is answered (and the file taken) only once the fault
    # is cleared, for 120 s at most, so a test can let other runs act between a run's
    # re-check and its start without relying on timing.
    held_until = time.time() + 120
    while st.fault_value(job.access_key, "hold_upload") and time.time() < held_until:
        time.sleep(0.05)
    fail = st.take_fault(job.access_key, "fail_upload", "UploadCSV")
    if fail is not None:
        status = int(fail.get("status", 500))
        code = {403: "AccessDenied", 503: "SlowDown"}.get(status, "InternalError")
        return s3_error(status, code, "Injected upload failure (emulator fault).")
    with st.LOCK:
        job.refresh()
        if job.status == "Created":
            job.csv = body
        # After start the URL may still be valid, but the job has already read the file;
        # S3 accepts the PUT and nothing changes.
    etag = hashlib.md5(body).hexdigest()
    return 200, {"ETag": f'"{etag}"', "x-amz-server-side-encryption": REQUIRED_SSE}, b""


# --------------------------------------------------------------------------------------
# Pools
# --------------------------------------------------------------------------------------

def _pool(account: str, region: str, pool_id: str):
    backend = cognitoidp_backends[account][region]
    pool = backend.user_pools.get(pool_id)
    if pool is None:
        raise not_found(f"User pool {pool_id} does not exist.")
    return pool


PASSWORD_HASH_COLUMN = "password_hash"   # [IMPORT, newer copy]


def csv_header(pool) -> list[str]:
    """GetCSVHeader [CSV] [MODEL]: standard attributes, then the pool's custom attributes
    (named with their `custom:` prefix, as the API names them [ATTR]; UNDOCUMENTED header
    spelling), then cognito:mfa_enabled and cognito:username. `sub` and developer-only
    attributes are not importable and not listed (UNDOCUMENTED for dev-only)."""
    custom = [name for name, a in pool.schema_attributes.items()
              if getattr(a, "custom", False) and name.startswith("custom:")]
    # UNDOCUMENTED whether GetCSVHeader lists `password_hash` (reference §10): chosen no;
    # switch `csv_header_lists_password_hash`: listed last.
    extra = [] if st.chosen("csv_header_lists_password_hash") else [PASSWORD_HASH_COLUMN]
    if not st.chosen("custom_column_spelling"):   # switch: custom columns without the prefix
        custom = [name[len("custom:"):] for name in custom]
    if not st.chosen("csv_header_order"):         # switch: the template's order [CSV]
        return [USERNAME_COLUMN] + STANDARD_COLUMNS + custom + [MFA_COLUMN] + extra
    return STANDARD_COLUMNS + custom + [MFA_COLUMN, USERNAME_COLUMN] + extra


def expected_header(pool, job: "Job") -> list[str]:
    """The columns a job's file must have: GetCSVHeader's, and for a hash job also
    `password_hash` ([IMPORT, newer copy]: a job naming an algorithm without that column
    fails)."""
    header = csv_header(pool)
    if job.algorithm and PASSWORD_HASH_COLUMN not in header:
        header = header + [PASSWORD_HASH_COLUMN]
    return header


def attribute_of_column(pool, column: str) -> str:
    """The attribute a header column writes (a bare custom name under the
    `custom_column_spelling` switch is the custom attribute)."""
    if column not in pool.schema_attributes and f"custom:{column}" in pool.schema_attributes:
        return f"custom:{column}"
    return column


def _case_sensitive(pool) -> bool:
    # [CASE] [MODEL]: pools created through the API without UsernameConfiguration are
    # case-sensitive.
    return bool((pool.extended_config.get("UsernameConfiguration") or {}).get("CaseSensitive", True))


# --------------------------------------------------------------------------------------
# IAM role checks
# --------------------------------------------------------------------------------------

def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _doc(document: Any) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    text = str(document)
    if text.startswith("%7B") or text.startswith("%7b"):
        text = urllib.parse.unquote(text)
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(urllib.parse.unquote(text))


def _get_role(role_arn: str):
    m = ROLE_ARN_RE.match(role_arn or "")
    if not m:
        return None
    account, name = m.group(1), m.group(2)
    try:
        backend = iam_backends[account]["aws"]
        role = backend.get_role(name)
    except Exception:
        return None
    return role if role.arn == role_arn else None


def _trust_ok(role, account: str) -> bool:
    """[ROLE]: trust principal cognito-idp.amazonaws.com, action sts:AssumeRole, no
    conditions in the docs. UNDOCUMENTED whether Cognito supplies aws:SourceAccount: the
    emulator accepts a StringEquals/StringLike aws:SourceAccount equal to the pool's
    account (and aws:SourceArn matching a user pool of that account); any other condition
    makes the statement not apply (conservative)."""
    try:
        doc = _doc(role.assume_role_policy_document)
    except Exception:
        return False
    allowed = False
    for stmt in _as_list(doc.get("Statement")):
        if not isinstance(stmt, dict):
            continue
        principal = stmt.get("Principal") or {}
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if "cognito-idp.amazonaws.com" not in services:
            continue
        actions = [a.lower() for a in _as_list(stmt.get("Action"))]
        if not any(fnmatch.fnmatchcase("sts:assumerole", a) for a in actions):
            continue
        if not _condition_ok(stmt.get("Condition"), account):
            continue
        if stmt.get("Effect") == "Deny":
            return False
        if stmt.get("Effect") == "Allow":
            allowed = True
    return allowed


def _condition_ok(cond: Any, account: str) -> bool:
    if not cond:
        return True
    if not isinstance(cond, dict):
        return False
    for op, kv in cond.items():
        if op not in ("StringEquals", "StringLike", "ArnLike", "ArnEquals") or not isinstance(kv, dict):
            return False
        for key, values in kv.items():
            values = [str(v) for v in _as_list(values)]
            if key.lower() == "aws:sourceaccount" and op in ("StringEquals", "StringLike"):
                if not st.chosen("trust_source_account_condition"):
                    return False   # switch: Cognito supplies no aws:SourceAccount
                if not any(fnmatch.fnmatchcase(account, v) for v in values):
                    return False
            elif key.lower() == "aws:sourcearn":
                pattern = f"arn:aws:cognito-idp:*:{account}:userpool/*"
                if not any(v.startswith("arn:aws:cognito-idp:") and f":{account}:" in v
                           for v in values) and not any(v == pattern for v in values):
                    return False
            else:
                return False
    return True


def _policy_documents(role) -> list[dict[str, Any]]:
    docs = []
    for document in role.policies.values():
        try:
            docs.append(_doc(document))
        except Exception:
            pass
    for policy in role.managed_policies.values():
        for version in getattr(policy, "versions", []):
            if getattr(version, "is_default", False) or getattr(version, "is_default_version", False):
                try:
                    docs.append(_doc(version.document))
                except Exception:
                    pass
    return docs


def _grants(docs: list[dict[str, Any]], action: str, resource: str) -> bool:
    allowed = False
    for doc in docs:
        for stmt in _as_list(doc.get("Statement")):
            if not isinstance(stmt, dict) or stmt.get("Condition"):
                continue   # conditional grants: not evaluated -> not counted (conservative)
            if "Action" not in stmt or "Resource" not in stmt:
                continue   # NotAction / NotResource: not evaluated (conservative)
            acts = [a.lower() for a in _as_list(stmt["Action"])]
            if not any(fnmatch.fnmatchcase(action.lower(), a) for a in acts):
                continue
            if not any(fnmatch.fnmatchcase(resource, r) for r in _as_list(stmt["Resource"])):
                continue
            if stmt.get("Effect") == "Deny":
                return False
            if stmt.get("Effect") == "Allow":
                allowed = True
    return allowed


def missing_log_permissions(role, account: str, region: str, group: str, stream: str) -> list[str]:
    """[ROLE]: the role needs logs:CreateLogGroup, CreateLogStream, DescribeLogStreams and
    PutLogEvents on arn:aws:logs:REGION:ACCOUNT:log-group:/aws/cognito/* ."""
    group_arn = f"arn:aws:logs:{region}:{account}:log-group:{group}"
    stream_arn = f"{group_arn}:log-stream:{stream}"
    needed = {
        "logs:CreateLogGroup": [group_arn],
        "logs:CreateLogStream": [stream_arn, group_arn + ":*"],
        "logs:DescribeLogStreams": [group_arn, group_arn + ":*"],
        "logs:PutLogEvents": [stream_arn, group_arn + ":*"],
    }
    docs = _policy_documents(role)
    return [a for a, resources in needed.items()
            if not any(_grants(docs, a, r) for r in resources)]


# --------------------------------------------------------------------------------------
# CSV dialect [CSV]: UTF-8 without BOM, values never quoted, "\," is an escaped comma,
# every value trimmed. NOT RFC 4180.
# --------------------------------------------------------------------------------------

def split_row(line: str) -> list[str]:
    fields: list[str] = []
    cur: list[str] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == "\\" and i + 1 < n and line[i + 1] == ",":
            cur.append(",")     # [CSV] [AWS-SAMPLE]: "\," is a comma inside a value
            i += 2
            continue
        if c == "\\" and i + 1 < n and not st.chosen("other_backslashes"):
            cur.append(line[i + 1])   # switch: a backslash escapes any character
            i += 2
            continue
        # UNDOCUMENTED: any other backslash, and double quotes, are kept literally
        # (values are never quoted in Cognito's dialect, so a quote is part of the value).
        if c == ",":
            fields.append("".join(cur).strip())   # [CSV]: leading/trailing spaces trimmed
            cur = []
        else:
            cur.append(c)
        i += 1
    fields.append("".join(cur).strip())
    if not st.chosen("quote_characters"):   # switch: one pair of surrounding quotes removed
        fields = [f[1:-1] if len(f) >= 2 and f[0] == f[-1] == '"' else f for f in fields]
    return fields


class CsvFileError(Exception):
    """Whole-job failure: the file cannot be parsed or its header is wrong. [CWL]"""


def parse_csv(data: bytes, expected: list[str], optional: tuple[str, ...] = (),
              hash_job: bool = False) -> tuple[list[str], list[str]]:
    """Returns (header, data lines). Raises CsvFileError with a CompletionMessage.
    All messages are UNDOCUMENTED wording ([CWL] only says an unparseable file fails the job)."""
    if len(data) > MAX_FILE_BYTES:
        raise CsvFileError("The CSV file is larger than 100 MB.")
    # [CSV]: UTF-8 with no byte-order mark. UNDOCUMENTED what a BOM does; the emulator
    # does NOT strip it (conservative): the file is rejected as unparseable.
    if data.startswith(b"\xef\xbb\xbf") and not st.chosen("bom"):
        data = data[3:]   # switch: the BOM is stripped
    if data.startswith(b"\xef\xbb\xbf"):
        raise CsvFileError("The CSV file could not be parsed: it starts with a byte-order "
                           "mark (UTF-8 without BOM is required).")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CsvFileError("The CSV file could not be parsed: it is not valid UTF-8.")
    # UNDOCUMENTED line endings: LF and CRLF both accepted. Trailing empty lines ignored.
    if "\r" in text and not st.chosen("crlf_line_endings"):
        raise CsvFileError("The CSV file could not be parsed: it has CR line endings.")  # switch
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    if st.chosen("trailing_blank_lines"):
        while lines and lines[-1].strip() == "":
            lines.pop()
    elif lines and lines[-1] == "":
        lines.pop()   # switch: only the last line's terminator; blank lines are rows
    if not lines:
        raise CsvFileError("The CSV file could not be parsed: it is empty.")
    header = split_row(lines[0])
    if "" in header:
        raise CsvFileError("The CSV header could not be parsed: it has an empty column name.")
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups and st.chosen("duplicate_column"):
        raise CsvFileError(_cut("The CSV header has duplicate columns: " + ", ".join(dups)))
    if hash_job and PASSWORD_HASH_COLUMN not in header:
        # [IMPORT, newer copy]: an algorithm named without the column fails the job.
        # Wording UNDOCUMENTED.
        raise CsvFileError("The CSV file has no password_hash column, which a job with a "
                           "PasswordHashingAlgorithm requires.")
    missing = [c for c in expected if c not in header]
    unknown = [c for c in header if c not in expected and c not in optional]
    # [CSV]: every column of GetCSVHeader must be present (order free). Extra columns:
    # UNDOCUMENTED; rejected (conservative).
    if missing:
        if not st.chosen("missing_column_message"):   # switch: a message naming nothing
            raise CsvFileError("The CSV file could not be parsed.")
        raise CsvFileError(_cut("The CSV header is missing required columns: " + ", ".join(missing)))
    if unknown and st.chosen("extra_column"):
        raise CsvFileError(_cut("The CSV header has columns that are not in the user pool: "
                                + ", ".join(unknown)))
    rows = lines[1:]
    if len(rows) > MAX_USERS_PER_FILE:
        raise CsvFileError("The CSV file has more than 500000 users.")
    if not st.chosen("wrong_value_count") and any(len(split_row(r)) != len(header) for r in rows):
        raise CsvFileError("The CSV file could not be parsed: a row has the wrong number of values.")
    if not st.chosen("long_row") and any(len(r) > MAX_ROW_CHARS for r in rows):
        raise CsvFileError("The CSV file could not be parsed: a row is longer than 16000 characters.")
    return header, rows


def user_rows_in(data: bytes) -> int:
    """Data rows in an uploaded file (for the `file_user_limit` switch)."""
    return max(0, data.rstrip(b"\r\n").count(b"\n"))


def _cut(msg: str) -> str:
    return msg if len(msg) <= 128 else msg[:125] + "..."


def _bool(value: str) -> bool | None:
    """[CSV]: the prose writes true/false, the sample TRUE/FALSE -> case-insensitive.
    UNDOCUMENTED: 1/yes/no are rejected (conservative). Empty -> None."""
    v = value.lower()
    if v == "true":
        return True
    if v == "false":
        return False
    if not st.chosen("boolean_spellings") and v in ("1", "yes", "0", "no"):
        return v in ("1", "yes")   # switch: 1/yes/0/no accepted
    if v == "":
        return None
    raise ValueError


class RowContext:
    def __init__(self, pool, header: list[str]):
        self.pool = pool
        self.header = header
        self.algorithm: str | None = None     # the job's PasswordHashingAlgorithm
        self.access_key = st.ANONYMOUS
        self.case_sensitive = _case_sensitive(pool)
        self.username_attributes = list(pool.extended_config.get("UsernameAttributes") or [])
        self.auto_verified = list(pool.extended_config.get("AutoVerifiedAttributes") or [])
        self.mfa = pool.mfa_config or "OFF"
        self.required = [name for name, a in pool.schema_attributes.items()
                         if getattr(a, "required", False) and name in header]
        self.number_customs = {name for name, a in pool.schema_attributes.items()
                               if getattr(a, "custom", False) and a.data_type == "Number"}
        # header column -> attribute (bare custom names under `custom_column_spelling`);
        # unknown columns (accepted under `extra_column`) import nothing.
        expected = set(csv_header(pool))
        self.attribute = {c: attribute_of_column(pool, c) for c in header if c in expected}
        self.number_customs = {c for c, a in self.attribute.items() if a in self.number_customs}
        self.in_file: set[str] = set()   # usernames of this file's rows so far
        # Existing-user indexes, built once per job (rows that import are added as they go).
        self.keys: set[str] = set()
        for u in list(pool.users.values()):
            self.keys.add(self.key(u.username))
        self.alias_index: dict[str, set[str]] = {a: set() for a in self.username_attributes}
        if self.username_attributes:
            for u in list(pool.users.values()):
                for a in self.username_attributes:
                    v = u.attribute_lookup.get(a)
                    if v:
                        self.alias_index[a].add(v.lower() if a == "email" else v)

    def key(self, username: str) -> str:
        # [CASE]: CaseSensitive=false makes usernames case-insensitive. UNDOCUMENTED how
        # the import compares them; the emulator compares case-insensitively (conservative:
        # "Alice" is SKIPPED when "alice" exists). Switch `case_insensitive_import`.
        if self.case_sensitive or not st.chosen("case_insensitive_import"):
            return username
        return username.lower()

    def exists(self, username: str, values: dict[str, str]) -> bool:
        return self.exists_by_name(username) or self.exists_by_alias(values)

    def exists_by_name(self, username: str) -> bool:
        return self.key(username) in self.keys or username in self.pool.users

    def exists_by_alias(self, values: dict[str, str]) -> bool:
        # UNDOCUMENTED (reference §2): import into a pool with UsernameAttributes. The
        # emulator treats a row whose email/phone (per UsernameAttributes) is already the
        # sign-in attribute of a user as that user.
        for a in self.username_attributes:
            v = values.get(a, "")
            if v and (v.lower() if a == "email" else v) in self.alias_index[a]:
                return True
        return False

    def add(self, user: CognitoIdpUser, username: str, values: dict[str, str]) -> None:
        self.keys.add(self.key(username))
        self.keys.add(self.key(user.username))
        for a in self.username_attributes:
            v = values.get(a, "")
            if v:
                self.alias_index[a].add(v.lower() if a == "email" else v)


def check_row(ctx: RowContext, fields: list[str]) -> tuple[str, str, dict[str, str]]:
    """One data row -> (outcome, reason, values). Row-level problems FAIL that row and
    the job carries on [CWL]. Reason wording is UNDOCUMENTED except MSG_EXISTS and
    MSG_NO_AUTO_VERIFIED; reasons never contain user data [CWL]."""
    header = ctx.header
    if len(fields) != len(header):
        # UNDOCUMENTED: a row with the wrong number of values fails that row.
        return "FAILED", f"The row has {len(fields)} values but the header has {len(header)} columns.", {}
    values: dict[str, str] = {}
    for col, v in zip(header, fields):
        values.setdefault(col, v)   # a duplicate column (`duplicate_column` switch): first wins
    username = values[USERNAME_COLUMN]
    if username == "":
        return "FAILED", "The cognito:username value is missing.", values       # [CSV]
    if len(username) > 128 or any(ch.isspace() or not ch.isprintable() for ch in username):
        return "FAILED", "The cognito:username value is not a valid username.", values  # [MODEL]
    if not st.chosen("invalid_row_of_existing_user") and ctx.exists(username, values):
        return "SKIPPED", MSG_EXISTS, values   # switch: the existing user is found first

    def bad(col: str, reason: str) -> tuple[str, str, dict[str, str]]:
        if not st.chosen("failed_reason_wording"):   # switch: the reason quotes the value
            reason = f"{reason} Value: {values.get(col, '')}"
        return "FAILED", reason, values
    for col in header:
        if len(values[col]) > MAX_ATTRIBUTE_CHARS:
            return bad(col, f"The value of {col} is longer than 2048 characters.")
    bools: dict[str, bool | None] = {}
    for col in BOOLEAN_COLUMNS:
        try:
            bools[col] = _bool(values.get(col, ""))
        except ValueError:
            return bad(col, f"The value of {col} is not a valid boolean (true or false).")
    email = values.get("email", "")
    phone = values.get("phone_number", "")
    email_re = EMAIL_RE if st.chosen("email_without_dot") else EMAIL_NO_DOT_RE
    if email and not email_re.match(email):
        return bad("email", "The value of email is not a valid email address.")
    if phone and not PHONE_RE.match(phone):
        return bad("phone_number", "The value of phone_number is not a valid E.164 phone number.")  # [ATTR]
    formats = st.chosen("attribute_formats")   # switch: formats not checked
    if formats and values.get("birthdate") and not BIRTHDATE_RE.match(values["birthdate"]):
        return bad("birthdate", "The value of birthdate is not in mm/dd/yyyy format.")  # [CSV]
    if formats and values.get("updated_at") and not UPDATED_AT_RE.match(values["updated_at"]):
        return bad("updated_at", "The value of updated_at is not a number of seconds since the epoch.")  # [CSV]
    for col in ctx.number_customs:
        if values.get(col):
            try:
                float(values[col])
            except ValueError:
                return bad(col, f"The value of {col} is not a number.")
    for col in ctx.required:
        if values.get(col, "") == "":
            return "FAILED", f"The required attribute {col} is missing.", values   # [CSV]
    # [CSV]: email is required when email_verified is true; phone_number likewise.
    if bools["email_verified"] and not email:
        return "FAILED", "email_verified is true but email is empty.", values
    if bools["phone_number_verified"] and not phone:
        return "FAILED", "phone_number_verified is true but phone_number is empty.", values
    # [CSV]: each user must set at least one of the pool's auto-verified attributes true
    # (with a single auto-verified attribute, that one). Message from [CWL].
    verified_flags = {"email": bools["email_verified"], "phone_number": bools["phone_number_verified"]}
    if not any(verified_flags.get(a) for a in ctx.auto_verified):
        return "FAILED", MSG_NO_AUTO_VERIFIED, values
    # cognito:mfa_enabled per the NEWER [CSV] version: blank allowed (takes the pool's
    # state); MFA ON pools accept true or blank; OFF pools accept false or blank;
    # OPTIONAL pools accept anything.
    mfa = bools[MFA_COLUMN]
    if ctx.mfa == "OFF" and mfa is True:
        return "FAILED", "cognito:mfa_enabled is true but MFA is turned off in the user pool.", values
    if ctx.mfa == "ON" and mfa is False:
        return "FAILED", "cognito:mfa_enabled is false but the user pool requires MFA.", values
    # [CWL]: an existing username is SKIPPED "The user already exists." The team's
    # observation (SPEC §1): a username twice in one file -> first imported, second
    # skipped; rows are processed in order, so the second one finds the first.
    # UNDOCUMENTED precedence: an invalid row is FAILED even when the user exists.
    hash_problem = check_hash(ctx, values)
    if hash_problem is not None:
        return hash_problem
    key = ctx.key(username)
    if key in ctx.in_file and not st.chosen("duplicate_username_in_file"):
        return "FAILED", "The username appears more than once in the file.", values   # switch
    ctx.in_file.add(key)
    if ctx.exists_by_name(username):
        return "SKIPPED", MSG_EXISTS, values
    if ctx.exists_by_alias(values):
        if not st.chosen("username_attributes_existing_email"):   # switch
            return "FAILED", "A user with this sign-in attribute already exists.", values
        return "SKIPPED", MSG_EXISTS, values
    return "SUCCEEDED", MSG_SUCCEEDED, values


def check_hash(ctx: RowContext, values: dict[str, str]) -> tuple[str, str, dict[str, str]] | None:
    """The `password_hash` cell of a row. A blank cell is fine (RESET_REQUIRED) [IMPORT,
    newer copy]. UNDOCUMENTED, chosen: a hash not in the standard form of the job's
    algorithm (password_hashes.py; switch `hash_forms`) FAILS the row (switch
    `malformed_hash`: the job); a hash in a job without an algorithm FAILS the row (switch
    `hash_without_algorithm`: ignored). Reasons never quote the hash."""
    cell = values.get(PASSWORD_HASH_COLUMN, "")
    if not cell:
        return None
    if not ctx.algorithm:
        if not st.chosen("hash_without_algorithm"):
            values[PASSWORD_HASH_COLUMN] = ""
            return None
        return "FAILED", "The row has a password_hash but the import job has no PasswordHashingAlgorithm.", values
    if not ph.valid_form(ctx.algorithm, cell, strict=not st.chosen("hash_forms")):
        reason = f"The password_hash value is not a valid {ctx.algorithm} hash."
        if not st.chosen("malformed_hash"):
            return "HASH_JOB_FAILED", reason, values
        return "FAILED", reason, values
    return None


def ctx_username(ctx: RowContext, values: dict[str, str]) -> str:
    return values.get(USERNAME_COLUMN, "")


def create_user(ctx: RowContext, values: dict[str, str]) -> CognitoIdpUser:
    attrs = []
    for col in dict.fromkeys(ctx.header):
        if col in (USERNAME_COLUMN, MFA_COLUMN, PASSWORD_HASH_COLUMN) or col not in ctx.attribute:
            continue
        v = values.get(col, "")
        if v == "":
            continue
        if col in BOOLEAN_COLUMNS:
            v = v.lower()
        attrs.append({"Name": ctx.attribute[col], "Value": v})
    username = values[USERNAME_COLUMN]
    # [IMPORT] [MODEL]: imported users (no password hash) are RESET_REQUIRED. A `sub` is
    # generated by moto's CognitoIdpUser.
    # UNDOCUMENTED (reference §2): for pools with UsernameAttributes the emulator stores
    # a generated UUID (= sub) as the username, as Cognito does for sign-up and
    # AdminCreateUser in such pools; the email/phone column is the sign-in attribute.
    # [IMPORT, newer copy]: a valid password hash imports the user CONFIRMED; the hash is
    # kept on the user for AdminInitiateAuth (moto_patches.py), never returned.
    password_hash = values.get(PASSWORD_HASH_COLUMN, "") if ctx.algorithm else ""
    status = UserStatus.CONFIRMED if password_hash else UserStatus.RESET_REQUIRED
    # Switch `username_attributes_storage`: the row's cognito:username is kept.
    as_uuid = ctx.username_attributes and st.chosen("username_attributes_storage")
    user = CognitoIdpUser(ctx.pool.id, None if as_uuid else username, None,
                          status, attrs)
    if password_hash:
        user.imported_password_hash = (ctx.algorithm, password_hash)
    mfa = values.get(MFA_COLUMN, "").lower()
    if not st.chosen("mfa_enabled_true"):
        pass   # switch: the column enables no MFA method
    elif mfa == "true" or (mfa == "" and ctx.mfa == "ON"):
        user.sms_mfa_enabled = True
    ctx.pool.users[user.username] = user
    ctx.add(user, username, values)
    return user


# --------------------------------------------------------------------------------------
# The job worker
# --------------------------------------------------------------------------------------

def log_names(pool, job: Job) -> tuple[str, str]:
    # [CWL]: group /aws/cognito/userpools/<pool id>/<pool name>, stream <job id>/<job name>
    return f"/aws/cognito/userpools/{pool.id}/{pool.name}", f"{job.id}/{job.name}"


def _ensure_log_stream(job: Job, group: str, stream: str):
    logs = logs_backends[job.account][job.region]
    if group not in logs.groups:
        try:
            logs.create_log_group(group, {})
        except Exception:
            pass
    if stream not in logs.groups[group].streams:
        logs.create_log_stream(group, stream)
    return logs


def _wait(job: Job, seconds: float) -> bool:
    """Sleep; True when a stop was requested meanwhile."""
    return job.stop_event.wait(max(0.0, seconds))


def _stopped(job: Job) -> None:
    time.sleep(st.cfg("stopping_seconds"))
    with st.LOCK:
        job.finish("Stopped", MSG_STOPPED)


def run_job(job: Job) -> None:
    st.set_caller(job.access_key)   # the creator's switches apply to the job
    try:
        _run_job(job)
    except Exception as e:  # noqa: BLE001 - an emulator bug must not leave a job hanging
        import traceback
        traceback.print_exc()
        with st.LOCK:
            if job.status not in FINISHED:
                job.finish("Failed", f"Internal error in the emulator: {type(e).__name__}")


def _run_job(job: Job) -> None:
    pending = st.fault_value(job.access_key, "slow_start_seconds")
    if pending is None:
        pending = st.cfg("pending_seconds")
    if _wait(job, float(pending)):
        return _stopped(job)
    # Fault `hold_start`: the job stays Pending (active) until the fault is cleared, for
    # 120 s at most, so a test can let another run's start be refused without timing.
    held_until = time.time() + 120
    while st.fault_value(job.access_key, "hold_start") and time.time() < held_until:
        if _wait(job, 0.05):
            return _stopped(job)
    backend = cognitoidp_backends[job.account][job.region]
    pool = backend.user_pools.get(job.pool_id)
    if pool is None:
        with st.LOCK:
            job.finish("Failed", "The user pool was deleted.")   # [CWL]
        return
    group, stream = log_names(pool, job)
    # [CWL]: a role that can't be assumed, lacks the policy or was deleted fails the job.
    # UNDOCUMENTED CompletionMessage wording.
    role = _get_role(job.role_arn)
    if role is None or not _trust_ok(role, job.account):
        with st.LOCK:
            job.finish("Failed", "The CloudWatch logs role could not be assumed by Cognito.")
        return
    missing = missing_log_permissions(role, job.account, job.region, group, stream)
    write_logs = True
    if missing and not st.chosen("logs_permissions_missing"):
        missing, write_logs = [], False   # switch: the job runs, its log lines are lost
    if missing:
        with st.LOCK:
            job.finish("Failed", _cut("The CloudWatch logs role lacks permissions: " + ", ".join(missing)))
        return
    if not (pool.extended_config.get("AutoVerifiedAttributes") or []) and not st.chosen(
            "no_auto_verified_start"):
        # switch `no_auto_verified_start`: the start was accepted, the job fails.
        with st.LOCK:
            job.finish("Failed", "The user pool has no auto-verified attributes.")
        return
    fail_msg = st.fault_value(job.access_key, "fail_job")
    if fail_msg:
        with st.LOCK:
            job.finish("Failed", str(fail_msg))
        return
    with st.LOCK:
        data = job.csv or b""
    try:
        # Switch `hash_without_algorithm` "ignore": a plain job may carry the column.
        ignore = () if job.algorithm or st.chosen("hash_without_algorithm") else (PASSWORD_HASH_COLUMN,)
        header, rows = parse_csv(data, expected_header(pool, job), ignore, hash_job=bool(job.algorithm))
    except CsvFileError as e:
        with st.LOCK:
            job.finish("Failed", str(e))
        return
    logs = _ensure_log_stream(job, group, stream)
    with st.LOCK:
        if job.stop_event.is_set():
            pass
        else:
            job.status = "InProgress"
    if job.stop_event.is_set():
        return _stopped(job)
    ctx = RowContext(pool, header)
    ctx.algorithm = job.algorithm
    ctx.access_key = job.access_key
    failing_rows = set(st.fault_value(job.access_key, "fail_rows") or [])
    rate = float(st.cfg("rows_per_second"))
    first_line = first_data_line_number(job.access_key)
    t0 = time.monotonic()
    for i, line in enumerate(rows):
        if job.stop_event.is_set():
            return _stopped(job)
        if job.pool_id not in backend.user_pools:
            with st.LOCK:
                job.finish("Failed", "The user pool was deleted.")   # [CWL]
            return
        if len(line) > MAX_ROW_CHARS:
            # [CSV]: at most 16,000 characters a row. UNDOCUMENTED: that row fails.
            outcome, reason, values = "FAILED", "The row is longer than 16000 characters.", {}
        else:
            outcome, reason, values = check_row(ctx, split_row(line))
            # Fault `fail_rows`: [CWL] documents per-row failures from an internal error,
            # which no client can predict; this makes one happen for the named users.
            if outcome == "SUCCEEDED" and ctx_username(ctx, values) in failing_rows:
                outcome, reason = "FAILED", "An internal error occurred while importing this user."
        if outcome == "HASH_JOB_FAILED":
            # config `malformed_hash_fails_job`: the alternative to a FAILED row.
            with st.LOCK:
                job.finish("Failed", reason)
            return
        if outcome == "SUCCEEDED":
            create_user(ctx, values)
        line_no = first_line + i
        # [CWL]: "[<OUTCOME>] Line Number <n> - <reason>", no user data.
        if write_logs:
            logs.put_log_events(group, stream, [{"timestamp": int(time.time() * 1000),
                                                 "message": f"[{outcome}] Line Number {line_no} - {reason}"}])
        with st.LOCK:
            if outcome == "SUCCEEDED":
                job.imported += 1
            elif outcome == "SKIPPED":
                job.skipped += 1
            else:
                job.failed += 1
        if rate > 0:
            target = t0 + (i + 1) / rate
            delay = target - time.monotonic()
            if delay > 0 and _wait(job, delay):
                return _stopped(job)
    with st.LOCK:
        total = job.imported + job.skipped + job.failed
        bad = job.skipped + job.failed
        # UNDOCUMENTED threshold (reference §4): failed + skipped > failure_share of rows.
        share = float(st.cfg("failure_share"))
        too_many = bad / total > share if st.chosen("failure_threshold") else bad / total >= share
        if total and too_many:
            job.finish("Failed", MSG_TOO_MANY)
        else:
            # UNDOCUMENTED success message (reference §4); a plain sentence is chosen.
            message = st.choice("success_completion_message")
            job.finish("Succeeded", None if message == "(none)" else message)


# --------------------------------------------------------------------------------------
# The six operations, as methods of moto's CognitoIdpResponse
# --------------------------------------------------------------------------------------

BASE_URL = {"url": "http://127.0.0.1:0"}


def _ctx(self) -> tuple[str, str, str]:
    return self.current_account, self.region, st.access_key_from_auth(self.headers.get("Authorization"))


def _pool_id_param(self) -> str:
    pool_id = self._get_param("UserPoolId")
    if not pool_id:
        raise invalid("1 validation error detected: Value null at 'userPoolId' failed to "
                      "satisfy constraint: Member must not be null")
    return pool_id


def get_csv_header(self) -> str:
    account, region, _ = _ctx(self)
    pool_id = _pool_id_param(self)
    with st.LOCK:
        pool = _pool(account, region, pool_id)
        return json.dumps({"UserPoolId": pool_id, "CSVHeader": csv_header(pool)})


def create_user_import_job(self) -> str:
    account, region, akid = _ctx(self)
    pool_id = _pool_id_param(self)
    name = self._get_param("JobName")
    role_arn = self._get_param("CloudWatchLogsRoleArn")
    if not name or not JOB_NAME_RE.match(name):
        raise invalid("1 validation error detected: Value at 'jobName' failed to satisfy "
                      "constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+")
    algorithm = self._get_param("PasswordHashingAlgorithm")
    if algorithm is not None and algorithm not in ph.ALGORITHMS:
        # [MODEL]-style enum validation error.
        raise invalid(f"1 validation error detected: Value '{algorithm}' at 'passwordHashingAlgorithm' "
                      "failed to satisfy constraint: Member must satisfy enum value set: "
                      f"[{', '.join(ph.ALGORITHMS)}]")
    if not role_arn or not ROLE_ARN_RE.match(role_arn):
        raise invalid("1 validation error detected: Value at 'cloudWatchLogsRoleArn' failed "
                      "to satisfy constraint: Member must satisfy the IAM role ARN format")
    with st.LOCK:
        _pool(account, region, pool_id)
        # UNDOCUMENTED whether CreateUserImportJob checks the role up front (reference §6).
        # The emulator checks existence and trust here (as the contract asks) and the logs
        # permissions when the job runs. Message wording UNDOCUMENTED.
        role = _get_role(role_arn)
        if (role is None or not _trust_ok(role, account)) and st.chosen("role_checked_at_create"):
            raise invalid(f"Role {role_arn} cannot be assumed by Cognito "
                          "(it does not exist or does not trust cognito-idp.amazonaws.com).")
        propagation = st.fault_value(akid, "role_propagation_seconds")
        if propagation:
            created = role.create_date.timestamp() if hasattr(role.create_date, "timestamp") else 0
            if role is not None and time.time() - created < float(propagation):
                raise invalid(f"Role {role_arn} cannot be assumed by Cognito "
                              "(it does not exist or does not trust cognito-idp.amazonaws.com).")
        n = sum(1 for j in JOBS.values() if j.pool_id == pool_id and j.account == account and j.region == region)
        if n >= MAX_JOBS_PER_POOL:
            raise limit_exceeded("The user pool has reached the limit of 1000 import jobs.")  # [QUOTAS]
        job = Job(account, region, pool_id, name, role_arn, akid, BASE_URL["url"])
        job.algorithm = algorithm
        JOBS[job.id] = job
        return json.dumps({"UserImportJob": job.to_json()})


def start_user_import_job(self) -> str:
    account, region, akid = _ctx(self)
    pool_id = _pool_id_param(self)
    job_id = self._get_param("JobId")
    with st.LOCK:
        pool = _pool(account, region, pool_id)
        job = _find_job(account, region, pool_id, job_id)
        if job.status != "Created":
            # [JOB]: only a Created job can start; a Stopped/Expired one cannot restart.
            # UNDOCUMENTED error: switch `restart_refusal_code`.
            raise CognitoError(st.choice("restart_refusal_code"),
                               f"Import job {job.id} cannot be started: its status is {job.status}.")
        if job.csv is None:
            # amplify-js #6416 (reference §5): the message seen.
            raise precondition(f"No csv file was uploaded for {job.id}")
        if (not (pool.extended_config.get("AutoVerifiedAttributes") or [])
                and st.chosen("no_auto_verified_start")):
            # [CSV]: a pool without auto-verified attributes: "the job will not start".
            # UNDOCUMENTED error and wording.
            raise precondition("The user pool has no auto-verified attributes; the import job cannot start.")
        # [JOB]: one active import job per account (and Region). UNDOCUMENTED what a
        # second start does (reference §10): the model declares PreconditionNotMetException
        # for StartUserImportJob, so the emulator answers that by default; the config switch
        # `start_refusal_code` makes it LimitExceededException. It never queues.
        for other in JOBS.values():
            if (other is not job and other.account == account and other.region == region
                    and other.status in ACTIVE):
                refusal = st.fault_value(akid, "start_refusal_code") or st.cfg("start_refusal_code")
                raise CognitoError(refusal,
                                   "Only one import job can be active at a time in an account "
                                   f"and Region; {other.id} is {other.status}.")
        if (not st.chosen("file_user_limit")
                and user_rows_in(job.csv) > MAX_USERS_PER_FILE):   # switch
            raise precondition(f"The file of {job.id} has more than 500000 users.")
        if not st.chosen("role_deleted_before_run"):   # switch: the role is checked again
            role = _get_role(job.role_arn)
            if role is None or not _trust_ok(role, account):
                raise invalid(f"Role {job.role_arn} cannot be assumed by Cognito.")
        job.status = "Pending"
        job.start = time.time()
        threading.Thread(target=run_job, args=(job,), name=f"job-{job.id}", daemon=True).start()
        return json.dumps({"UserImportJob": job.to_json()})


def describe_user_import_job(self) -> str:
    account, region, _ = _ctx(self)
    pool_id = _pool_id_param(self)
    job_id = self._get_param("JobId")
    with st.LOCK:
        _pool(account, region, pool_id)
        job = _find_job(account, region, pool_id, job_id)
        return json.dumps({"UserImportJob": job.to_json()})


def stop_user_import_job(self) -> str:
    account, region, _ = _ctx(self)
    pool_id = _pool_id_param(self)
    job_id = self._get_param("JobId")
    with st.LOCK:
        _pool(account, region, pool_id)
        job = _find_job(account, region, pool_id, job_id)
        if job.status not in ("Pending", "InProgress"):
            # UNDOCUMENTED: Stop on a Created or finished job; the model declares
            # PreconditionNotMetException for StopUserImportJob. Switch `stop_refusal_code`.
            raise CognitoError(st.choice("stop_refusal_code"),
                               f"Import job {job.id} cannot be stopped: its status is {job.status}.")
        job.status = "Stopping"
        job.message = MSG_STOPPED
        job.stop_event.set()
        return json.dumps({"UserImportJob": job.to_json()})


LIST_PAGE_MAX = 50   # [MODEL]: the UserImportJobs array holds at most 50 items


def list_user_import_jobs(self) -> str:
    account, region, _ = _ctx(self)
    pool_id = _pool_id_param(self)
    max_results = self._get_param("MaxResults")
    token = self._get_param("PaginationToken")
    if max_results is None or not isinstance(max_results, int) or not 1 <= max_results <= 60:
        # [MODEL]: MaxResults is required, 1-60.
        raise invalid("1 validation error detected: Value at 'maxResults' failed to satisfy "
                      "constraint: Member must have value between 1 and 60")
    with st.LOCK:
        _pool(account, region, pool_id)
        jobs = [j for j in JOBS.values()
                if j.account == account and j.region == region and j.pool_id == pool_id]
        for j in jobs:
            j.refresh()
        jobs.sort(key=lambda j: (j.creation, j.seq), reverse=True)   # [JOB]: newest first
        start = 0
        if token:
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)[1])
                assert base64.urlsafe_b64decode(token.encode()).decode().startswith(pool_id + ":")
            except Exception:
                raise invalid("Invalid pagination token.")
        size = min(max_results, LIST_PAGE_MAX)
        page = jobs[start:start + size]
        out: dict[str, Any] = {"UserImportJobs": [j.to_json() for j in page]}
        if start + size < len(jobs):
            out["PaginationToken"] = base64.urlsafe_b64encode(
                f"{pool_id}:{start + size}".encode()).decode()
        return json.dumps(out)


def install() -> None:
    for fn in (get_csv_header, create_user_import_job, start_user_import_job,
               describe_user_import_job, stop_user_import_job, list_user_import_jobs):
        setattr(CognitoIdpResponse, fn.__name__, fn)
