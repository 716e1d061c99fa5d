"""One probe per behaviour the emulator marks as chosen (UNDOCUMENTED in Cognito's docs).

Each probe is named like the emulator's switch for that behaviour (emu_state.CHOICES) and
returns one of the switch's values, or "other: ..." with what it saw, plus a detail. The
same function runs against a real account and against the emulator. Probes that need
rows of an import job ask `lab.rows(kind, rows)`: the rows of every probe go into one
batch job per pool kind (after valid filler rows), and the probe reads its rows'
outcomes from the job's CloudWatch log lines.
"""

from __future__ import annotations

import math
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from kit import MSG_EXISTS, Lab, NotRun, probe

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


def other(what: str) -> str:
    return f"other: {what}"


# --------------------------------------------------------------------------------------
# GetCSVHeader
# --------------------------------------------------------------------------------------

@probe("column order in GetCSVHeader")
def csv_header_order(lab: Lab):
    # `password_hash`, where listed, is probed on its own (csv_header_lists_password_hash).
    header = [c for c in lab.header("basic") if c != "password_hash"]
    if header[-2:] == ["cognito:mfa_enabled", "cognito:username"]:
        return "cognito_last", ""
    if header[:1] == ["cognito:username"]:
        return "username_first", ""
    return other(f"starts {header[:2]}, ends {header[-2:]}"), ",".join(header)


@probe("spelling of a custom attribute's column in GetCSVHeader")
def custom_column_spelling(lab: Lab):
    header = lab.header("basic")
    if "custom:dept" in header:
        return "custom_prefix", ""
    if "dept" in header:
        return "bare_name", ""
    return other("no column for custom attribute dept"), ",".join(header)


# --------------------------------------------------------------------------------------
# Whole files (one job each)
# --------------------------------------------------------------------------------------

@probe("message of a job whose file lacks a column", jobs=1)
def missing_column_message(lab: Lab):
    header = [c for c in lab.header("basic") if c != "locale"]
    run = lab.run_file("basic", lab.csv(header, lab.good_rows(2)))
    if run.status != "Failed":
        return other(run.status), str(run)
    return ("names_columns" if "locale" in run.message else "generic"), str(run)


@probe("a column GetCSVHeader does not list", jobs=1)
def extra_column(lab: Lab):
    header = lab.header("basic") + ["nickname2"]
    run = lab.run_file("basic", lab.csv(header, lab.good_rows(2)))
    if run.status == "Failed" and run.counts() == (0, 0, 0):
        return "job_failed", str(run)
    if run.status == "Succeeded" and run.counts()[0] == 2:
        return "ignored", str(run)
    return other(str(run)), str(run)


@probe("a column listed twice in the file", jobs=1)
def duplicate_column(lab: Lab):
    header = lab.header("basic") + ["given_name"]
    row = lab.user_row(given_name="First")
    line = lab.line(lab.header("basic"), row) + ",Second"
    run = lab.run_file("basic", lab.csv(header, [line, lab.user_row()]))
    if run.status == "Failed" and run.counts() == (0, 0, 0):
        return "job_failed", str(run)
    if run.status == "Succeeded":
        try:
            u = lab.idp.admin_get_user(UserPoolId=lab.pool("basic"), Username=row["cognito:username"])
        except ClientError as e:
            return other(f"{run}; user not found ({code(e)})"), str(run)
        given = {a["Name"]: a["Value"] for a in u["UserAttributes"]}.get("given_name")
        return ("first_wins" if given == "First" else other(f"given_name={given!r}")), str(run)
    return other(str(run)), str(run)


@probe("a UTF-8 byte-order mark at the start of the file", jobs=1)
def bom(lab: Lab):
    data = b"\xef\xbb\xbf" + lab.csv(lab.header("basic"), lab.good_rows(2))
    run = lab.run_file("basic", data)
    if run.status == "Failed" and run.counts() == (0, 0, 0):
        return "job_failed", str(run)
    if run.status == "Succeeded" and run.counts()[0] == 2:
        return "stripped", str(run)
    return other(str(run)), str(run)


@probe("CRLF line endings", jobs=1)
def crlf_line_endings(lab: Lab):
    run = lab.run_file("basic", lab.csv(lab.header("basic"), lab.good_rows(2), eol="\r\n"))
    if run.status == "Succeeded" and run.counts() == (2, 0, 0):
        return "accepted", str(run)
    if run.status == "Failed" and run.counts() == (0, 0, 0):
        return "job_failed", str(run)
    return other(str(run)), str(run)


@probe("blank lines at the end of the file", jobs=1)
def trailing_blank_lines(lab: Lab):
    data = lab.csv(lab.header("basic"), lab.good_rows(4)) + b"\n\n"
    run = lab.run_file("basic", data)
    if run.status == "Succeeded" and run.counts() == (4, 0, 0):
        return "ignored", str(run)
    if run.counts()[0] == 4 and run.counts()[2] > 0:
        return "rows_failed", str(run)
    return other(str(run)), str(run)


@probe("a row with more values than the header", jobs=1)
def wrong_value_count(lab: Lab):
    header = lab.header("basic")
    bad = lab.line(header, lab.user_row()) + ",extra"
    run = lab.run_file("basic", lab.csv(header, lab.good_rows(3) + [bad]))
    if run.counts() == (3, 0, 1):
        return "row_failed", str(run)
    if run.status == "Failed" and run.counts() == (0, 0, 0):
        return "job_failed", str(run)
    return other(str(run)), str(run)


@probe("a row longer than 16,000 characters", jobs=1)
def long_row(lab: Lab):
    header = lab.header("basic")
    filler = {c: "a" * 1900 for c in ("name", "given_name", "family_name", "middle_name",
                                      "nickname", "profile", "picture", "website", "address")}
    long = lab.user_row(**filler)
    assert len(lab.line(header, long)) > 16000
    run = lab.run_file("basic", lab.csv(header, lab.good_rows(3) + [long]))
    if run.counts() == (3, 0, 1):
        return "row_failed", str(run)
    if run.status == "Failed" and run.counts() == (0, 0, 0):
        return "job_failed", str(run)
    return other(str(run)), str(run)


@probe("a file of more than 500,000 users", jobs=1)
def file_user_limit(lab: Lab):
    if not lab.expensive:
        raise NotRun("uploads a 500,001-row file (about 40 MB); pass --expensive")
    header = lab.header("basic")
    rows = [lab.line(header, {"cognito:username": f"lim{i}", "email": f"lim{i}@example.com",
                              "email_verified": "true"}) for i in range(500001)]
    job = lab.create_job("basic")
    status, body = lab.upload(job, lab.csv(header, rows))
    if status != 200:
        return other(f"upload refused: HTTP {status}"), body[:200]
    try:
        lab.start(job)
    except ClientError as e:
        return "start_refused", f"{code(e)}: {e.response['Error'].get('Message', '')}"
    # Never import half a million users: stop as soon as any row is processed.
    done = lab.wait(job, give_up=lambda j: j["Status"] == "InProgress" and (
        j.get("ImportedUsers", 0) + j.get("FailedUsers", 0) + j.get("SkippedUsers", 0)) > 0)
    if done["Status"] == "Failed":
        return "job_failed", done.get("CompletionMessage", "")
    if done["Status"] == "InProgress":
        lab.idp.stop_user_import_job(UserPoolId=lab.own(job["UserPoolId"]), JobId=job["JobId"])
        return other("rows were imported (job stopped)"), ""
    return other(done["Status"]), done.get("CompletionMessage", "")


# --------------------------------------------------------------------------------------
# Rows (one batch job per pool kind)
# --------------------------------------------------------------------------------------

def one_row(lab: Lab, kind: str = "basic", **values: str):
    return lab.rows(kind, [lab.user_row(**values)])[0]


def _succeeded_or_failed(r, failed: str, succeeded: str):
    if r.outcome == "FAILED":
        return failed, str(r)
    if r.outcome == "SUCCEEDED":
        return succeeded, str(r)
    return other(str(r)), str(r)


@probe("double quotes around a value")
def quote_characters(lab: Lab):
    r = one_row(lab, given_name='"Quoted"')
    if r.outcome != "SUCCEEDED":
        return other(str(r)), str(r)
    given = r.attributes().get("given_name")
    return {'"Quoted"': "literal", "Quoted": "stripped"}.get(given, other(f"given_name={given!r}")), ""


@probe("a backslash before anything but a comma")
def other_backslashes(lab: Lab):
    r = one_row(lab, given_name="a\\b")
    if r.outcome != "SUCCEEDED":
        return other(str(r)), str(r)
    given = r.attributes().get("given_name")
    return {"a\\b": "literal", "ab": "dropped"}.get(given, other(f"given_name={given!r}")), ""


@probe("the same username twice in one file")
def duplicate_username_in_file(lab: Lab):
    name = lab.unique("twice")
    first, second = lab.rows("basic", [lab.user_row(name), lab.user_row(name)])
    if first.outcome != "SUCCEEDED":
        return other(f"first row {first}"), str(first)
    if second.outcome == "SKIPPED" and second.reason == MSG_EXISTS:
        return "skipped_already_exists", str(second)
    if second.outcome == "FAILED":
        return "failed", str(second)
    return other(f"second row {second}"), str(second)


@probe("an email address without a dot in its domain")
def email_without_dot(lab: Lab):
    return _succeeded_or_failed(one_row(lab, email="someone@localhost"), "rejected", "accepted")


@probe("birthdate not mm/dd/yyyy, updated_at not epoch seconds")
def attribute_formats(lab: Lab):
    birth, updated = lab.rows("basic", [lab.user_row(birthdate="1985-02-01"),
                                        lab.user_row(updated_at="2020-01-01T00:00:00Z")])
    detail = f"birthdate: {birth}; updated_at: {updated}"
    if birth.outcome == updated.outcome == "FAILED":
        return "rejected", detail
    if birth.outcome == updated.outcome == "SUCCEEDED":
        return "accepted", detail
    return other(detail), detail


@probe("booleans spelt 1 (email_verified=1)")
def boolean_spellings(lab: Lab):
    return _succeeded_or_failed(one_row(lab, email_verified="1"), "rejected", "accepted")


@probe("an invalid row whose username already exists")
def invalid_row_of_existing_user(lab: Lab):
    name = lab.unique("exists")
    lab.existing_user("basic", name, f"{name}@example.com")
    r = one_row(lab, username=name, phone_number="12345")
    if r.outcome == "FAILED":
        return "failed", str(r)
    if r.outcome == "SKIPPED":
        return "skipped", str(r)
    return other(str(r)), str(r)


@probe("wording of a FAILED row's reason")
def failed_reason_wording(lab: Lab):
    value = "55501234567"
    r = one_row(lab, phone_number=value)
    if r.outcome != "FAILED":
        return other(str(r)), str(r)
    if value in r.reason:
        return "echoes_value", r.reason
    if "phone_number" in r.reason or "phone number" in r.reason.lower():
        return "names_column", r.reason
    return other(r.reason), r.reason


@probe("case-insensitive pool: a row differing from a user only in case")
def case_insensitive_import(lab: Lab):
    name = lab.unique("casey")
    lab.existing_user("insensitive", name, f"{name}@example.com")
    r = one_row(lab, "insensitive", username=name.upper())
    if r.outcome == "SKIPPED":
        return "insensitive", str(r)
    if r.outcome == "SUCCEEDED":
        return "sensitive", str(r)
    return other(str(r)), str(r)


@probe("pool with UsernameAttributes=email: the imported user's username")
def username_attributes_storage(lab: Lab):
    name = lab.unique("stored")
    r = one_row(lab, "email_username", username=name)
    if r.outcome != "SUCCEEDED":
        return other(str(r)), str(r)
    found = lab.idp.list_users(UserPoolId=lab.pool("email_username"),
                               Filter=f'email = "{name.lower()}@example.com"')["Users"]
    if len(found) != 1:
        return other(f"{len(found)} users with the row's email"), ""
    username = found[0]["Username"]
    if username == name:
        return "as_given", ""
    if UUID_RE.match(username):
        return "uuid", ""
    return other("another username"), ""


@probe("pool with UsernameAttributes=email: a row whose email is a user's")
def username_attributes_existing_email(lab: Lab):
    email = f"{lab.unique('taken')}@example.com"
    lab.existing_user("email_username", email, email)
    r = one_row(lab, "email_username", username=lab.unique("other"), email=email)
    if r.outcome == "SKIPPED":
        return "skipped", str(r)
    if r.outcome == "FAILED":
        return "failed", str(r)
    return other(str(r)), str(r)


@probe("cognito:mfa_enabled=true in an MFA-optional pool")
def mfa_enabled_true(lab: Lab):
    r = one_row(lab, "mfa", phone_number="+12065550100", **{"cognito:mfa_enabled": "true"})
    if r.outcome != "SUCCEEDED":
        return other(str(r)), str(r)
    u = lab.idp.admin_get_user(UserPoolId=lab.pool("mfa"), Username=r.username)
    methods = u.get("UserMFASettingList") or []
    if methods == ["SMS_MFA"]:
        return "sms_mfa", ""
    if not methods:
        return "none", ""
    return other(f"UserMFASettingList={methods}"), ""


# --------------------------------------------------------------------------------------
# Job lifecycle
# --------------------------------------------------------------------------------------

@probe("log line numbers: is the header line 1?")
def log_line_numbering(lab: Lab):
    run = lab.batch_run("basic")
    first = min((n for _, n, _ in run.lines), default=None)
    if first == 1:
        return "data_rows", str(run)
    if first == 2:
        return "header_counted", str(run)
    return other(f"first line number {first}"), str(run)


@probe("CompletionMessage of a Succeeded job")
def success_completion_message(lab: Lab):
    run = lab.batch_run("basic")
    if run.status != "Succeeded":
        return other(f"the batch job ended {run}"), str(run)
    return run.message or "(none)", str(run)


@probe("the failure threshold: 2 of 4 rows FAILED", jobs=1)
def failure_threshold(lab: Lab):
    bad = [lab.user_row(username="", email="nobody@example.com") for _ in range(2)]
    run = lab.run_file("basic", lab.csv(lab.header("basic"), lab.good_rows(2) + bad))
    if run.counts() != (2, 0, 2):
        return other(str(run)), str(run)
    if run.status == "Succeeded":
        return "more_than_share", str(run)
    if run.status == "Failed":
        return "at_least_share", str(run)
    return other(str(run)), str(run)


@probe("StartUserImportJob while another job is active", jobs=2)
def start_refusal_code(lab: Lab):
    header = lab.header("basic")
    rows = 300
    for _ in range(3):
        first = lab.create_job("basic")
        second = lab.create_job("basic")
        for job in (first, second):
            # Enough rows that the first job is still running when the second one starts.
            status, body = lab.upload(job, lab.csv(header, lab.good_rows(rows)))
            if status != 200:
                raise RuntimeError(f"upload answered HTTP {status}")
        lab.start(first)
        try:
            started = lab.start(second)
        except ClientError as e:
            lab.wait(first)
            return code(e), ""
        done_first, done_second = lab.wait(first), lab.wait(second)
        finished, began = done_first.get("CompletionDate"), started.get("StartDate")
        if finished is None or began is None or finished > began:
            return other(f"the second job started while the first ran, and ended {done_second['Status']}"), ""
        rows *= 4   # the first job had already finished (a fast endpoint): again, longer
    return other("the first job always finished before the second start"), ""


@probe("StartUserImportJob on a finished job", jobs=1)
def restart_refusal_code(lab: Lab):
    run = lab.run_file("basic", lab.csv(lab.header("basic"), lab.good_rows(1)))
    try:
        lab.start(run.job)
    except ClientError as e:
        return code(e), e.response["Error"].get("Message", "")
    return other(f"the finished job started again: {lab.wait(run.job)['Status']}"), ""


@probe("StopUserImportJob on a Created job")
def stop_refusal_code(lab: Lab):
    job = lab.create_job("basic")
    try:
        lab.idp.stop_user_import_job(UserPoolId=lab.own(job["UserPoolId"]), JobId=job["JobId"])
    except ClientError as e:
        return code(e), e.response["Error"].get("Message", "")
    return other(f"stopped: {lab.describe(job)['Status']}"), ""


@probe("StartUserImportJob in a pool without auto-verified attributes", jobs=1)
def no_auto_verified_start(lab: Lab):
    header = lab.header("no_auto_verify")
    job = lab.create_job("no_auto_verify")
    lab.upload(job, lab.csv(header, lab.good_rows(1)))
    try:
        lab.start(job)
    except ClientError as e:
        return code(e), e.response["Error"].get("Message", "")
    done = lab.wait(job)
    if done["Status"] == "Failed":
        return "job_failed", done.get("CompletionMessage", "")
    return other(done["Status"]), done.get("CompletionMessage", "")


# --------------------------------------------------------------------------------------
# Upload URL
# --------------------------------------------------------------------------------------

@probe("headers signed by the pre-signed upload URL")
def presigned_url_signed_headers(lab: Lab):
    from urllib.parse import parse_qs, urlsplit
    job = lab.create_job("basic")
    q = parse_qs(urlsplit(job["PreSignedUrl"]).query)
    return (q.get("X-Amz-SignedHeaders") or ["(none)"])[0], ""


@probe("a Content-Type header on the upload")
def upload_content_type(lab: Lab):
    job = lab.create_job("basic")
    status, body = lab.upload(job, lab.csv(lab.header("basic"), lab.good_rows(1)),
                              {**{"x-amz-server-side-encryption": "aws:kms"},
                               "Content-Type": "text/csv"})
    if status == 200:
        return "accepted", ""
    if status == 403:
        return "rejected", body[:200]
    return other(f"HTTP {status}"), body[:200]


# --------------------------------------------------------------------------------------
# The logs role
# --------------------------------------------------------------------------------------

@probe("CreateUserImportJob with a role that does not exist")
def role_checked_at_create(lab: Lab):
    arn = f"arn:aws:iam::{lab.account}:role/{lab.name('missing')}"
    try:
        lab.create_job("basic", retry=False, role_arn=arn)
    except ClientError as e:
        if code(e) == "InvalidParameterException":
            return "at_create", e.response["Error"].get("Message", "")
        return other(code(e)), e.response["Error"].get("Message", "")
    return "at_run", ""


@probe("a trust policy with an aws:SourceAccount condition", jobs=1)
def trust_source_account_condition(lab: Lab):
    try:
        run = lab.run_file("basic", lab.csv(lab.header("basic"), lab.good_rows(1)),
                           role="source_account")
    except ClientError as e:
        return "rejected", f"{code(e)}: {e.response['Error'].get('Message', '')}"
    if run.status == "Succeeded":
        return "accepted", str(run)
    if run.status == "Failed":
        return "rejected", str(run)
    return other(str(run)), str(run)


@probe("a role without the CloudWatch Logs permissions", jobs=1)
def logs_permissions_missing(lab: Lab):
    run = lab.run_file("basic", lab.csv(lab.header("basic"), lab.good_rows(1)), role="no_logs")
    if run.status == "Failed":
        return "job_failed", str(run)
    if run.status == "Succeeded":
        return "succeeded", str(run)
    return other(str(run)), str(run)


@probe("the role deleted between CreateUserImportJob and the start", jobs=1)
def role_deleted_before_run(lab: Lab):
    job = lab.create_job("basic", role="doomed")
    lab.upload(job, lab.csv(lab.header("basic"), lab.good_rows(1)))
    lab.delete_role("doomed")
    try:
        lab.start(job)
    except ClientError as e:
        return "start_refused", f"{code(e)}: {e.response['Error'].get('Message', '')}"
    done = lab.wait(job)
    if done["Status"] == "Failed":
        return "job_failed", done.get("CompletionMessage", "")
    return other(done["Status"]), done.get("CompletionMessage", "")


# --------------------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------------------

@probe("AdminAddUserToGroup for a user already in 100 groups")
def group_limit_error(lab: Lab):
    pool = lab.own(lab.pool("basic"))
    name = lab.unique("grouped")
    lab.existing_user("basic", name, f"{name}@example.com")
    for i in range(101):
        lab.idp.create_group(UserPoolId=pool, GroupName=f"{name}-g{i:03d}")
    for i in range(100):
        lab.idp.admin_add_user_to_group(UserPoolId=pool, GroupName=f"{name}-g{i:03d}", Username=name)
    try:
        lab.idp.admin_add_user_to_group(UserPoolId=pool, GroupName=f"{name}-g100", Username=name)
    except ClientError as e:
        return code(e), e.response["Error"].get("Message", "")
    return other("the 101st group was accepted"), ""


# --------------------------------------------------------------------------------------
# Quotas
# --------------------------------------------------------------------------------------

@probe("GetProvisionedLimit of an unknown API category")
def provisioned_limit_unknown_category(lab: Lab):
    try:
        out = lab.idp.get_provisioned_limit(LimitDefinition={
            "LimitClass": "API_CATEGORY", "Attributes": {"Category": "NoSuchCategory"}})
    except ClientError as e:
        return code(e), e.response["Error"].get("Message", "")
    return other("answered a limit"), str(out.get("Limit", {}))[:200]


# --------------------------------------------------------------------------------------
# ListUsers pagination tokens: "tokens expire after one hour" [LISTUSERS-GUIDE]. One
# timeline serves both probes: two chains start at t0; chain B takes its second page at
# t0 + ttl/2; at t0 + ttl + margin chain A's token (issued at t0) must have expired, and
# chain B's (issued at t0 + ttl/2) has expired only if its hour began at the chain's first
# page. A real account waits over an hour (--slow); the emulator is given a short lifetime.
# --------------------------------------------------------------------------------------

def token_timeline(lab: Lab, ttl: float, margin: float) -> dict:
    """What ListUsers answers for tokens of different ages, waiting `ttl` + `margin`."""
    pool = lab.own(lab.pool("basic"))
    for i in range(3):   # Limit=1: three users make two-page chains
        name = f"tokens{i}-{lab.run_id}"
        lab.existing_user("basic", name, f"{name}@example.com")

    def page(token=None):
        kw = {"PaginationToken": token} if token else {}
        try:
            return lab.idp.list_users(UserPoolId=pool, Limit=1, **kw).get("PaginationToken"), None
        except ClientError as e:
            return None, e

    started = time.monotonic()
    token_a, _ = page()
    token_b, _ = page()
    if not token_a or not token_b:
        return {"error": "a one-user first page carried no PaginationToken"}
    time.sleep(max(0.0, started + ttl / 2 - time.monotonic()))
    token_b2, error = page(token_b)
    if error is not None or not token_b2:
        return {"error": f"a token {ttl / 2:.0f} s old was refused: {error}"}
    time.sleep(max(0.0, started + ttl + margin - time.monotonic()))
    _, old_error = page(token_a)
    _, young_error = page(token_b2)
    return {"old": old_error, "young": young_error, "age": time.monotonic() - started}


def _tokens(lab: Lab) -> dict:
    if "tokens" not in lab.memo:
        ttl, margin = lab.token_wait()
        with lab.on_emulator(token_ttl_seconds=ttl):
            lab.memo["tokens"] = token_timeline(lab, ttl, margin)
    return lab.memo["tokens"]


@probe("the error of ListUsers for a pagination token over an hour old")
def expired_token_error(lab: Lab):
    seen = _tokens(lab)
    if "error" in seen:
        return other(seen["error"]), ""
    if seen["old"] is None:
        return other(f"a token {seen['age']:.0f} s old was accepted"), ""
    return code(seen["old"]), seen["old"].response["Error"].get("Message", "")


@probe("a pagination token's hour: from the chain's first page or from its own page")
def token_hour_start(lab: Lab):
    seen = _tokens(lab)
    if "error" in seen:
        return other(seen["error"]), ""
    if seen["old"] is None:
        return other(f"a token {seen['age']:.0f} s old was accepted"), ""
    if seen["young"] is None:
        return "issuing_page", "a young token of an old chain was accepted"
    return "first_page", f"a young token of an old chain was refused: {code(seen['young'])}"


# --------------------------------------------------------------------------------------
# Request-rate quotas [QUOTAS]: how a second is measured, and which category an operation
# counts against where the quotas page does not say. A category is tested by keeping it
# saturated with an operation known to belong to it (from the category descriptions) while
# the operation in question is called: throttled means it counts against that category.
# On a real account these probes throttle the account for a second or two each (they run
# only with --throttle); against the emulator the kit enforces small quotas for itself.
# --------------------------------------------------------------------------------------

THROTTLED = "TooManyRequestsException"


def _passes(call) -> bool:
    """True when the call passed, False when it was throttled; other errors propagate."""
    try:
        call()
        return True
    except ClientError as e:
        if code(e) == THROTTLED:
            return False
        raise


def burst(calls: list) -> int:
    """Sends `calls` at once; how many passed."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return sum(pool.map(_passes, calls))


def throttled_while_saturated(member, target, drain: float) -> bool:
    """Whether `target` is throttled while `member`'s category is kept saturated: the
    members are sent back to back until they are throttled themselves (at least `drain`
    seconds), then `target` is sent up to three times."""
    stop = threading.Event()
    errors: list[Exception] = []
    throttles = []

    def hammer():
        while not stop.is_set():
            try:
                if not _passes(member):
                    throttles.append(1)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return

    workers = [threading.Thread(target=hammer, daemon=True) for _ in range(6)]
    for w in workers:
        w.start()
    try:
        time.sleep(drain)
        # A loaded machine (or a slow network) sends fewer requests: wait until the
        # category is seen throttling its own members.
        deadline = time.monotonic() + 10 * drain + 2
        while len(throttles) < 3 and not errors and time.monotonic() < deadline:
            time.sleep(0.01)
        saturated = len(throttles) >= 3
        hit = False
        for _ in range(3 if saturated else 0):
            if not _passes(target):
                hit = True
                break
            time.sleep(0.02)
    finally:
        stop.set()
        for w in workers:
            w.join()
    if errors:
        raise errors[0]
    if not saturated:
        raise RuntimeError("the category could not be saturated (its members were never throttled)")
    return hit


class QuotaLab:
    """The resources the quota probes call: the basic pool, a group, a user."""

    def __init__(self, lab: Lab):
        self.idp = lab.idp_once
        self.pool = lab.own(lab.pool("basic"))
        if "quota_group" not in lab.memo:
            group, user = f"quota-{lab.run_id}", f"quota-{lab.run_id}"
            lab.idp.create_group(UserPoolId=self.pool, GroupName=group)
            lab.existing_user("basic", user, f"{user}@example.com")
            lab.memo["quota_group"] = (group, user)
        self.group, self.user = lab.memo["quota_group"]
        self.lab = lab

    def member(self, category: str):
        """An operation of `category`, from the category descriptions [QUOTAS]."""
        p, g, u = self.pool, self.group, self.user
        return {
            "UserPoolRead": lambda: self.idp.describe_user_pool(UserPoolId=p),
            "UserPoolResourceRead": lambda: self.idp.get_group(UserPoolId=p, GroupName=g),
            "UserPoolResourceUpdate": lambda: self.idp.update_group(
                UserPoolId=p, GroupName=g, Description="conformance kit"),
            "UserResourceUpdate": lambda: self.idp.admin_add_user_to_group(
                UserPoolId=p, Username=u, GroupName=g),
            "UserUpdate": lambda: self.idp.admin_enable_user(UserPoolId=p, Username=u),
        }[category]

    def counts_against(self, category: str, target) -> bool:
        hit = throttled_while_saturated(self.member(category), target, self.lab.drain)
        self.lab.rest()
        return hit


def _category(lab: Lab, target, chosen: str, alternative: str):
    with lab.quotas():
        q = QuotaLab(lab)
        if q.counts_against(chosen, target(q)):
            return chosen, ""
        if q.counts_against(alternative, target(q)):
            return alternative, ""
    return other(f"neither {chosen} nor {alternative}"), ""


def _wait_until(wall: float) -> None:
    time.sleep(max(0.0, wall - time.time()))


@probe("how a request quota's second is measured: a burst at the quota, then another")
def quota_second(lab: Lab):
    with lab.quotas() as quotas:
        q = QuotaLab(lab)
        n = int(quotas["UserPoolRead"])
        describe = q.member("UserPoolRead")
        # A burst of two seconds' worth at x.6 (one second's worth passes either way), then
        # one second's worth at x+1.05: a calendar-second window lets all of it through, a
        # token bucket only what it refilled since the first burst ended (about half; at
        # most what it could refill until the second burst ended).
        for _ in range(5):
            now = time.time()
            second_start = math.floor(now) + (0.6 if now % 1 < 0.5 else 1.6)
            _wait_until(second_start)
            first = burst([describe] * (2 * n))
            first_end = time.time()
            if first_end > math.floor(second_start) + 0.95:
                lab.rest()   # the burst was too slow to end within its second: again
                continue
            _wait_until(math.floor(second_start) + 1.05)
            second = burst([describe] * n)
            # the most a bucket could have refilled by the end of the second burst
            refill = (time.time() - first_end) * n
            if refill < 0.75 * n:
                break
            lab.rest()
        else:
            return other("no burst ended in time to tell (a slow network?)"), ""
    detail = (f"quota {n}/s: {first} of {2 * n} passed at x.6 s, {second} of {n} at x+1.05 s "
              f"(a bucket would have refilled {refill:.1f})")
    if not 0.7 * n <= first <= 1.4 * n:
        return other(f"{first} of {2 * n} passed at once"), detail
    if second >= 0.9 * n:
        return "fixed_window", detail
    # + 2: what the bucket held below one token after the first burst, and rounding
    if second <= refill + 2:
        return "token_bucket", detail
    return other(f"{second} of {n} passed half a second later"), detail


@probe("the quota category of GetCSVHeader")
def category_get_csv_header(lab: Lab):
    return _category(lab, lambda q: lambda: q.idp.get_csv_header(UserPoolId=q.pool),
                     "UserPoolRead", "UserPoolResourceRead")


@probe("the quota category of ListGroups")
def category_list_groups(lab: Lab):
    return _category(lab, lambda q: lambda: q.idp.list_groups(UserPoolId=q.pool, Limit=1),
                     "UserPoolRead", "UserPoolResourceRead")


@probe("the quota category of ListUserPools")
def category_list_user_pools(lab: Lab):
    return _category(lab, lambda q: lambda: q.idp.list_user_pools(MaxResults=1),
                     "UserPoolRead", "UserPoolResourceRead")


@probe("the quota category of CreateGroup")
def category_create_group(lab: Lab):
    def create(q):
        return lambda: q.idp.create_group(UserPoolId=q.pool, GroupName=lab.unique("quota-created"))
    return _category(lab, create, "UserResourceUpdate", "UserPoolResourceUpdate")


@probe("the quota category of AdminUpdateUserAttributes")
def category_admin_update_user_attributes(lab: Lab):
    def update(q):
        return lambda: q.idp.admin_update_user_attributes(
            UserPoolId=q.pool, Username=q.user,
            UserAttributes=[{"Name": "given_name", "Value": "Probe"}])
    return _category(lab, update, "UserUpdate", "UserResourceUpdate")


@probe("the quota category of GetProvisionedLimit")
def category_get_provisioned_limit(lab: Lab):
    with lab.quotas() as quotas:
        q = QuotaLab(lab)

        def limit():
            q.idp.get_provisioned_limit(LimitDefinition={
                "LimitClass": "API_CATEGORY", "Attributes": {"Category": "UserPoolRead"}})
        # LimitManagement allows one a second: three at once from a quiet spell pass once.
        passed = burst([limit] * 3)
        if passed <= quotas["LimitManagement"]:
            return "LimitManagement", f"{passed} of 3 passed at once"
        lab.rest()
        if q.counts_against("UserPoolRead", limit):
            return "UserPoolRead", ""
    return other("neither UserPoolRead nor a quota of one a second"), f"{passed} of 3 passed at once"


@probe("the quota category (and quota) of the import-job calls")
def category_import_jobs(lab: Lab):
    with lab.quotas() as quotas:
        q = QuotaLab(lab)

        def jobs():
            q.idp.list_user_import_jobs(UserPoolId=q.pool, MaxResults=1)
        if q.counts_against("UserPoolResourceRead", jobs):
            return "UserPoolResource", "ListUserImportJobs counts against UserPoolResourceRead"
        if q.counts_against("UserPoolRead", jobs):
            return other("ListUserImportJobs counts against UserPoolRead"), ""
        # A category of their own: a burst of four seconds' worth of the assumed quota.
        n = int(quotas["UserImportJob"])
        passed = burst([jobs] * (4 * n))
    detail = f"{passed} of {4 * n} ListUserImportJobs passed at once"
    if 0.6 * n <= passed <= 2.5 * n:
        return "UserImportJob", detail
    return other(f"a category of its own, about {passed}/s"), detail


# --------------------------------------------------------------------------------------
# Password-hash jobs (SPEC §9, reference §10): hashes made by standard libraries from a
# known password (the emulator venv's bcrypt, argon2-cffi, hashlib)
# --------------------------------------------------------------------------------------

def _hash(algorithm: str) -> str:
    import password_hashes   # tests/emulator, on the path through kit
    return password_hashes.make(algorithm, "conformance probe password")


@probe("does GetCSVHeader list password_hash?")
def csv_header_lists_password_hash(lab: Lab):
    header = lab.header("basic")
    return ("listed" if "password_hash" in header else "not_listed"), ""


def _hash_header(lab: Lab) -> list[str]:
    header = lab.header("basic")
    return header if "password_hash" in header else header + ["password_hash"]


@probe("a BCRYPT hash written $2a$ (not $2b$)", jobs=1)
def hash_forms(lab: Lab):
    header = _hash_header(lab)
    two_a = _hash("BCRYPT").replace("$2b$", "$2a$", 1)
    run = lab.run_file("basic", lab.csv(header, [lab.user_row(password_hash=two_a)]), rows=1,
                       algorithm="BCRYPT")
    if run.counts() == (1, 0, 0):
        return "standard", str(run)
    if run.counts() == (0, 0, 1):
        return "strict", str(run)
    return other(str(run)), str(run)


@probe("a hash not in the form of the job's algorithm", jobs=1)
def malformed_hash(lab: Lab):
    header = _hash_header(lab)
    rows = [lab.user_row(password_hash=_hash("ARGON2ID")), lab.user_row(password_hash="$argon2id$not-a-hash")]
    run = lab.run_file("basic", lab.csv(header, rows), rows=2, algorithm="ARGON2ID")
    if run.counts() == (1, 0, 1):
        return "row_failed", str(run)
    if run.status == "Failed" and run.counts()[2] == 0:
        return "job_failed", str(run)
    return other(str(run)), str(run)


@probe("a password_hash column in a job without PasswordHashingAlgorithm", jobs=1)
def hash_without_algorithm(lab: Lab):
    header = _hash_header(lab)
    rows = [lab.user_row(), lab.user_row(password_hash=_hash("BCRYPT"))]
    run = lab.run_file("basic", lab.csv(header, rows), rows=2)
    if run.counts() == (2, 0, 0):
        return "ignore", str(run)
    if run.counts() == (1, 0, 1) or (run.status == "Failed" and run.counts() == (0, 0, 0)):
        return "fail", str(run)
    return other(str(run)), str(run)
