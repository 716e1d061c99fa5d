"""Process-wide state of the emulator: configuration, fault switches, request counters.

Faults and counters are scoped by the caller's AWS access key id (parsed from the SigV4
``Authorization`` header, ``Credential=<AKID>/...``), so that tests running in parallel
against one emulator do not see each other's faults or counts. Upload requests carry no
Authorization header: they are attributed to the access key of the job's creator.
"""

from __future__ import annotations

import random
import re
import threading
from typing import Any

LOCK = threading.RLock()

# Global timing / behaviour configuration (POST /_emulator/config).
DEFAULT_CONFIG: dict[str, Any] = {
    # Rows processed per second once a job is InProgress; 0 means "as fast as possible".
    "rows_per_second": 200.0,
    # How long a started job stays Pending before it goes InProgress.
    "pending_seconds": 0.3,
    # A Created job not started within this many seconds becomes Expired.
    # [JOB]: "24-48 hours"; we use the lower bound.
    "expiry_seconds": 86400.0,
    # Lifetime of the pre-signed upload URL. [JOB]: 15 minutes.
    "url_expiry_seconds": 900,
    # The job ends Failed when (failed + skipped) / rows is MORE than this share.
    # Undocumented threshold (reference §4): issue #9 failed with 32 of 46 rows bad.
    "failure_share": 0.5,
    # How long Stopping lasts before Stopped.
    "stopping_seconds": 0.2,
    # UNDOCUMENTED (reference §10): the error StartUserImportJob answers while another job is
    # active in the account and Region. The model declares PreconditionNotMetException for
    # Start (LimitExceededException only for Create), so that is the default; the
    # alternative is "LimitExceededException". Clients must handle both.
    "start_refusal_code": "PreconditionNotMetException",
    # UNDOCUMENTED [CWL] (reference §7): whether the log's "Line Number N" counts the header.
    # "data_rows": the first data row is line 1, as [AWS-SAMPLE] numbers them (default);
    # "header_counted": the header is line 1, the first data row line 2.
    "log_line_numbering": "data_rows",
    # Latency added to every Cognito request, in milliseconds.
    "latency_ms": 0.0,
    # Latency added per operation on top of latency_ms, e.g. {"ListUsers": 80}: a ListUsers
    # page, an AdminGetUser.
    "operation_latency_ms": {},
    # Latency added to a ListUsers page per user it returns (a fuller page takes longer).
    "list_users_per_user_ms": 0.0,
    # Request-rate quotas per category, requests per second, e.g. {"UserList": 30}; a
    # category not named is not enforced. Over quota: TooManyRequestsException (429).
    "quotas": {},
    # Whom a quota is shared by: "account" (every caller: the emulator has one account, as
    # Cognito's quotas are per account and Region) or "access_key" (each key its own, so
    # that parallel tests do not share).
    "quota_scope": "account",
    # Lifetime of a ListUsers pagination token [LISTUSERS-GUIDE: one hour], counted from
    # where switch `token_hour_start` says. Also a fault key (one access key's own).
    "token_ttl_seconds": 3600.0,
    # Password-hash jobs (password_hashes.py, README tables), each UNDOCUMENTED:
    # whether GetCSVHeader lists `password_hash` (last);
    "csv_header_lists_password_hash": "not_listed",
    # the encoded forms accepted ("strict": only `$2b$` bcrypt, exact PHC parameter lists);
    "hash_forms": "standard",
    # a hash not in its algorithm's form: that row FAILED, or the whole job Failed;
    "malformed_hash": "row_failed",
    # a `password_hash` column in a job without PasswordHashingAlgorithm: a non-blank cell
    # FAILS its row (and an unlisted column fails the job, like any extra column), or the
    # column is ignored (users RESET_REQUIRED).
    "hash_without_algorithm": "fail",
}

# Allowed values of the string switches above.
CHOICES: dict[str, tuple[str, ...]] = {
    "start_refusal_code": ("PreconditionNotMetException", "LimitExceededException"),
    "log_line_numbering": ("data_rows", "header_counted"),
    "csv_header_lists_password_hash": ("not_listed", "listed"),
    "hash_forms": ("standard", "strict"),
    "malformed_hash": ("row_failed", "job_failed"),
    "hash_without_algorithm": ("fail", "ignore"),
}

# --------------------------------------------------------------------------------------
# Chosen behaviours: one switch per place where Cognito's behaviour is UNDOCUMENTED and
# the emulator had to choose (tests/emulator/README.md, "documented behaviour vs the
# emulator's choices"). Each switch is a POST /_emulator/config key whose value is one of
# the tuple: the first is the emulator's choice (the default), the others the plausible
# alternatives, so clients can be tested against both readings. The conformance kit
# (tests/conformance) has one probe per switch, named like it, that reads the same
# behaviour from a real account: its answers are these values.
# --------------------------------------------------------------------------------------
CHOICES.update({
    # CSV file and header
    "csv_header_order": ("cognito_last", "username_first"),
    "custom_column_spelling": ("custom_prefix", "bare_name"),
    "missing_column_message": ("names_columns", "generic"),
    "extra_column": ("job_failed", "ignored"),
    "duplicate_column": ("job_failed", "first_wins"),
    "bom": ("job_failed", "stripped"),
    "quote_characters": ("literal", "stripped"),
    "other_backslashes": ("literal", "dropped"),
    "crlf_line_endings": ("accepted", "job_failed"),
    "trailing_blank_lines": ("ignored", "rows_failed"),
    "wrong_value_count": ("row_failed", "job_failed"),
    "long_row": ("row_failed", "job_failed"),
    "file_user_limit": ("job_failed", "start_refused"),
    # rows
    "duplicate_username_in_file": ("skipped_already_exists", "failed"),
    "case_insensitive_import": ("insensitive", "sensitive"),
    "email_without_dot": ("rejected", "accepted"),
    "attribute_formats": ("rejected", "accepted"),
    "boolean_spellings": ("rejected", "accepted"),
    "invalid_row_of_existing_user": ("failed", "skipped"),
    "failed_reason_wording": ("names_column", "echoes_value"),
    "username_attributes_storage": ("uuid", "as_given"),
    "username_attributes_existing_email": ("skipped", "failed"),
    "mfa_enabled_true": ("sms_mfa", "none"),
    # job lifecycle
    "no_auto_verified_start": ("PreconditionNotMetException", "job_failed"),
    "restart_refusal_code": ("PreconditionNotMetException", "InvalidParameterException"),
    "stop_refusal_code": ("PreconditionNotMetException", "InvalidParameterException"),
    "failure_threshold": ("more_than_share", "at_least_share"),
    "success_completion_message": ("Import Job Completed Successfully.", "(none)"),
    # upload URL
    "presigned_url_signed_headers": ("host;x-amz-server-side-encryption", "host"),
    "upload_content_type": ("accepted", "rejected"),
    # role
    "role_checked_at_create": ("at_create", "at_run"),
    "trust_source_account_condition": ("accepted", "rejected"),
    "logs_permissions_missing": ("job_failed", "succeeded"),
    "role_deleted_before_run": ("job_failed", "start_refused"),
    # groups: the error AdminAddUserToGroup answers for a user already in 100 groups. The
    # model declares no LimitExceededException for it, so the default is a declared error.
    "group_limit_error": ("InvalidParameterException", "LimitExceededException"),
    # pacing: the error GetProvisionedLimit answers for a category it does not know
    "provisioned_limit_unknown_category": ("InvalidParameterException", "ResourceNotFoundException"),
    # ListUsers pagination tokens (reference §8: "tokens expire after one hour"): the error an
    # expired token answers (both are errors the model declares for ListUsers), and whether
    # its hour starts at the chain's first page or at the page that issued it.
    "expired_token_error": ("InvalidParameterException", "NotAuthorizedException"),
    "token_hour_start": ("first_page", "issuing_page"),
    # request-rate quotas ([QUOTAS]; none of this is documented): how a quota's second is
    # measured (a token bucket refilled at the quota and holding one second's worth, or
    # fixed calendar-second windows of `quota` requests) ...
    "quota_second": ("token_bucket", "fixed_window"),
    # ... and which category an operation counts against, where the quotas page does not
    # say (CATEGORY_SWITCH): the emulator's inference, then a plausible other category.
    "category_get_csv_header": ("UserPoolRead", "UserPoolResourceRead"),
    "category_list_groups": ("UserPoolRead", "UserPoolResourceRead"),
    "category_get_provisioned_limit": ("UserPoolRead", "LimitManagement"),
    "category_list_user_pools": ("UserPoolRead", "UserPoolResourceRead"),
    "category_create_group": ("UserResourceUpdate", "UserPoolResourceUpdate"),
    "category_admin_update_user_attributes": ("UserUpdate", "UserResourceUpdate"),
    # the import-job calls: their own 5/s category, or the pool-resource categories (the
    # reads UserPoolResourceRead, the others UserPoolResourceUpdate)
    "category_import_jobs": ("UserImportJob", "UserPoolResource"),
})
DEFAULT_CONFIG.update({k: v[0] for k, v in CHOICES.items()})

# Documented quotas [QUOTAS]; the import-job calls' category is not documented (chosen).
DOCUMENTED_QUOTAS: dict[str, float] = {
    "UserList": 30, "UserRead": 120, "UserResourceUpdate": 25, "UserUpdate": 25,
    "UserPoolRead": 15, "UserPoolResourceRead": 20, "UserPoolResourceUpdate": 15,
    "UserCreation": 50, "LimitManagement": 1, "UserImportJob": 5,
}

# Which category an operation counts against. ListUsers/AdminGetUser/DescribeUserPool from
# the category descriptions [QUOTAS]; the others are inferences (README table).
CATEGORY_OF: dict[str, str] = {
    "ListUsers": "UserList", "ListUsersInGroup": "UserList",
    "AdminGetUser": "UserRead", "AdminListGroupsForUser": "UserRead",
    "AdminAddUserToGroup": "UserResourceUpdate", "AdminRemoveUserFromGroup": "UserResourceUpdate",
    "CreateGroup": "UserResourceUpdate",
    "AdminDisableUser": "UserUpdate", "AdminEnableUser": "UserUpdate",
    "AdminUpdateUserAttributes": "UserUpdate",
    "DescribeUserPool": "UserPoolRead", "GetCSVHeader": "UserPoolRead", "ListGroups": "UserPoolRead",
    "GetProvisionedLimit": "UserPoolRead", "ListUserPools": "UserPoolRead",
    "AdminCreateUser": "UserCreation",
    "CreateUserImportJob": "UserImportJob", "StartUserImportJob": "UserImportJob",
    "DescribeUserImportJob": "UserImportJob", "ListUserImportJobs": "UserImportJob",
    "StopUserImportJob": "UserImportJob",
    # groups as the pool's resources: "such as group" in the category descriptions [QUOTAS]
    "GetGroup": "UserPoolResourceRead", "UpdateGroup": "UserPoolResourceUpdate",
}

# Operations whose category is a switch (CHOICES): the inferred rows of CATEGORY_OF.
CATEGORY_SWITCH: dict[str, str] = {
    "GetCSVHeader": "category_get_csv_header", "ListGroups": "category_list_groups",
    "GetProvisionedLimit": "category_get_provisioned_limit",
    "ListUserPools": "category_list_user_pools", "CreateGroup": "category_create_group",
    "AdminUpdateUserAttributes": "category_admin_update_user_attributes",
    **{op: "category_import_jobs" for op in (
        "CreateUserImportJob", "StartUserImportJob", "DescribeUserImportJob",
        "ListUserImportJobs", "StopUserImportJob")},
}


def category_of(operation: str) -> str | None:
    """The quota category `operation` counts against, for the current caller's switches."""
    switch = CATEGORY_SWITCH.get(operation)
    if switch is None:
        return CATEGORY_OF.get(operation)
    category = choice(switch)
    if category == "UserPoolResource":
        reads = operation.startswith(("Describe", "List"))
        return "UserPoolResourceRead" if reads else "UserPoolResourceUpdate"
    return category


class Bucket:
    """A token bucket of `rate` per second holding at most one second's worth (chosen:
    Cognito does not document how it measures a second), or with switch `quota_second`
    `fixed_window`, `rate` requests per calendar second."""

    def __init__(self, rate: float, now: float):
        self.rate = rate
        self.tokens = rate
        self.last = now
        self.window = -1
        self.used = 0

    def take_window(self, rate: float, wall: float) -> bool:
        window = int(wall)
        if window != self.window:
            self.window, self.used = window, 0
        if self.used < rate:
            self.used += 1
            return True
        return False

    def take(self, rate: float, now: float) -> bool:
        if rate != self.rate:
            self.rate = rate
        self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


BUCKETS: dict[tuple[str, str], Bucket] = {}


def over_quota(access_key: str, operation: str) -> bool:
    """Whether this request exceeds its category's quota (one token taken when not)."""
    import time
    with LOCK:
        # An access key's own quotas (its faults' "quotas") win over the global ones, so
        # that one test can enforce quotas without slowing its neighbours.
        own = FAULTS.get(access_key)
        own_quotas = own.spec.get("quotas") if own is not None else None
        quotas = own_quotas if isinstance(own_quotas, dict) else CONFIG["quotas"]
        category = category_of(operation)
        if not quotas or category not in quotas:
            return False
        scope = access_key if own_quotas is not None or CONFIG["quota_scope"] == "access_key" else "account"
        now = time.monotonic()
        rate = float(quotas[category])
        bucket = BUCKETS.get((scope, category))
        if bucket is None:
            bucket = BUCKETS[(scope, category)] = Bucket(rate, now)
        if not chosen("quota_second"):
            return not bucket.take_window(rate, time.time())
        return not bucket.take(rate, now)


def quotas_of(access_key: str) -> dict[str, Any]:
    """The quotas enforced for this caller: its own (faults' "quotas"), else the global."""
    with LOCK:
        own = FAULTS.get(access_key)
        own_quotas = own.spec.get("quotas") if own is not None else None
        return own_quotas if isinstance(own_quotas, dict) else CONFIG["quotas"]


def provisioned_limit(access_key: str, category: str) -> tuple[float, float] | None:
    """(ProvisionedLimitValue, FreeLimitValue) of a category: the enforced quota when one
    is configured, else the documented one."""
    with LOCK:
        free = DOCUMENTED_QUOTAS.get(category)
        if free is None:
            return None
        return float(quotas_of(access_key).get(category, free)), float(free)


def latency_seconds(operation: str, users: int = 0) -> float:
    with LOCK:
        ms = CONFIG["latency_ms"] + float(CONFIG["operation_latency_ms"].get(operation, 0))
        if operation == "ListUsers":
            ms += CONFIG["list_users_per_user_ms"] * users
        return ms / 1000.0
CONFIG: dict[str, Any] = dict(DEFAULT_CONFIG)



_AKID_RE = re.compile(r"Credential=([^/,\s]+)/")

ANONYMOUS = "anonymous"


def access_key_from_auth(auth: str | None) -> str:
    if not auth:
        return ANONYMOUS
    m = _AKID_RE.search(auth)
    return m.group(1) if m else ANONYMOUS


class Faults:
    """Fault switches of one access key."""

    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        self.rng = random.Random(spec.get("seed"))
        # remaining deterministic counts, per switch
        self.remaining: dict[str, int | None] = {}
        # matching requests let through before the switch applies ("after")
        self.passing: dict[str, int] = {}
        for name in ("throttle", "server_error", "fail_upload"):
            sw = spec.get(name)
            if isinstance(sw, dict):
                c = sw.get("count")
                self.remaining[name] = int(c) if c is not None else None
                self.passing[name] = int(sw.get("after") or 0)

    def _matches(self, sw: dict[str, Any], operation: str) -> bool:
        ops = sw.get("operations")
        return ops is None or operation in ops

    def take(self, name: str, operation: str) -> dict[str, Any] | None:
        """Return the switch when this request must fail, consuming one count."""
        sw = self.spec.get(name)
        if not isinstance(sw, dict) or not self._matches(sw, operation):
            return None
        if self.passing.get(name, 0) > 0:
            self.passing[name] -= 1
            return None
        remaining = self.remaining.get(name)
        if remaining is not None and remaining > 0:
            self.remaining[name] = remaining - 1
            return sw
        rate = sw.get("rate")
        if rate is not None and self.rng.random() < float(rate):
            return sw
        if remaining is None and rate is None and "count" not in sw:
            # a switch with neither count nor rate: every matching request fails
            return sw
        return None


FAULTS: dict[str, Faults] = {}
COUNTS: dict[str, dict[str, int]] = {}


def set_faults(access_key: str, spec: dict[str, Any]) -> None:
    with LOCK:
        FAULTS[access_key] = Faults(spec)
        for key in [k for k in BUCKETS if k[0] == access_key]:
            del BUCKETS[key]


def clear_faults(access_key: str) -> None:
    with LOCK:
        FAULTS.pop(access_key, None)


def get_faults(access_key: str) -> Faults | None:
    with LOCK:
        return FAULTS.get(access_key)


def fault_value(access_key: str, key: str) -> Any:
    f = get_faults(access_key)
    return None if f is None else f.spec.get(key)


def take_fault(access_key: str, name: str, operation: str) -> dict[str, Any] | None:
    with LOCK:
        f = FAULTS.get(access_key)
        return None if f is None else f.take(name, operation)


def count(access_key: str, operation: str) -> None:
    with LOCK:
        per = COUNTS.setdefault(access_key, {})
        per[operation] = per.get(operation, 0) + 1


def get_counts(access_key: str) -> dict[str, int]:
    with LOCK:
        return dict(COUNTS.get(access_key, {}))


def reset_counts(access_key: str) -> None:
    with LOCK:
        COUNTS.pop(access_key, None)


def cfg(key: str) -> Any:
    with LOCK:
        return CONFIG[key]


def update_config(values: dict[str, Any]) -> dict[str, Any]:
    with LOCK:
        if "quota_scope" in values and values["quota_scope"] not in (None, "account", "access_key"):
            raise ValueError("quota_scope: account or access_key")
        BUCKETS.clear()
        for k, v in values.items():
            if k not in DEFAULT_CONFIG:
                raise KeyError(k)
            value = type(DEFAULT_CONFIG[k])(v) if v is not None else DEFAULT_CONFIG[k]
            if k in CHOICES and value not in CHOICES[k]:
                raise ValueError(f"{k} must be one of {', '.join(CHOICES[k])}")
            CONFIG[k] = value
        return dict(CONFIG)


def reset_config() -> dict[str, Any]:
    with LOCK:
        CONFIG.clear()
        CONFIG.update(DEFAULT_CONFIG)
        BUCKETS.clear()
        return dict(CONFIG)


# The access key a request (or a job's worker) runs for: a switch set as a fault of that
# key (POST /_emulator/faults) overrides the global config for it alone.
_CALLER = threading.local()


def set_caller(access_key: str) -> None:
    _CALLER.access_key = access_key


def choice(key: str) -> Any:
    """The value of switch `key` for the current caller."""
    akid = getattr(_CALLER, "access_key", None)
    if akid:
        value = fault_value(akid, key)
        if value is not None:
            return value
    return cfg(key)


def setting(key: str) -> Any:
    """A config value that an access key may override with a fault key of the same name
    (e.g. `token_ttl_seconds`), for the current caller."""
    akid = getattr(_CALLER, "access_key", None)
    value = fault_value(akid, key) if akid else None
    return cfg(key) if value is None else value


def chosen(key: str) -> bool:
    """True while switch `key` holds the emulator's choice (its default)."""
    return choice(key) == CHOICES[key][0]
