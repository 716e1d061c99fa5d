"""Import-job behaviour of the emulator, driven through boto3 like any AWS client."""

from __future__ import annotations

import json
import re
import time
import urllib.parse

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, SSE, TRUST, LOGS_POLICY, csv_bytes, put, user


def err(e: pytest.ExceptionInfo) -> tuple[str, str, int]:
    r = e.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_happy_path(aws, config):
    config(rows_per_second=40)
    pool = aws.pool("happy", Schema=[{"Name": "department", "AttributeDataType": "String"}])
    header = aws.header(pool)
    assert header[-2:] == ["cognito:mfa_enabled", "cognito:username"]
    assert "custom:department" in header and "email" in header and "sub" not in header
    job = aws.job(pool, name="happy-job")
    assert job["Status"] == "Created"
    assert re.fullmatch(r"import-[0-9A-Za-z]+", job["JobId"])
    assert job["ImportedUsers"] == job["SkippedUsers"] == job["FailedUsers"] == 0
    assert job["CloudWatchLogsRoleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/")
    url = urllib.parse.urlsplit(job["PreSignedUrl"])
    q = dict(urllib.parse.parse_qsl(url.query))
    assert url.path == f"/_upload/{job['JobId']}"
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and q["X-Amz-Expires"] == "900"
    assert q["X-Amz-SignedHeaders"] == "host;x-amz-server-side-encryption"
    assert re.fullmatch(r"[0-9a-f]{64}", q["X-Amz-Signature"])

    rows = [user(f"user{i:02d}", given_name="Doe, Jane", **{"custom__department": "eng"})
            for i in range(12)]
    status, _ = put(job["PreSignedUrl"], csv_bytes(header, rows), SSE)
    assert status == 200
    started = aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]
    assert started["Status"] == "Pending" and "StartDate" in started

    seen, intermediate = set(), False
    while True:
        j = aws.describe(pool, job["JobId"])
        seen.add(j["Status"])
        if j["Status"] == "InProgress" and 0 < j["ImportedUsers"] < 12:
            intermediate = True
        if j["Status"] in ("Succeeded", "Failed"):
            break
        time.sleep(0.02)
    assert {"Pending", "InProgress", "Succeeded"} <= seen
    assert intermediate, "counters must move while the job runs"
    assert (j["ImportedUsers"], j["SkippedUsers"], j["FailedUsers"]) == (12, 0, 0)
    assert j["CreationDate"] <= j["StartDate"] <= j["CompletionDate"]

    u = aws.idp.admin_get_user(UserPoolId=pool, Username="user03")
    attrs = {a["Name"]: a["Value"] for a in u["UserAttributes"]}
    assert u["UserStatus"] == "RESET_REQUIRED"
    assert attrs["email"] == "user03@example.com" and attrs["email_verified"] == "true"
    assert attrs["given_name"] == "Doe, Jane"          # "\," is an escaped comma
    assert attrs["custom:department"] == "eng" and attrs["sub"]
    listed = aws.idp.list_users(UserPoolId=pool, Limit=60)["Users"]
    assert len(listed) == 12 and all(x["UserStatus"] == "RESET_REQUIRED" for x in listed)

    lines = aws.log_lines(pool, j)
    assert lines == [f"[SUCCEEDED] Line Number {n} - The import succeeded." for n in range(1, 13)]
    filtered = aws.logs.filter_log_events(
        logGroupName=f"/aws/cognito/userpools/{pool}/happy", filterPattern="SUCCEEDED")["events"]
    assert len(filtered) == 12


def test_each_row_outcome(aws):
    pool = aws.pool(Schema=[{"Name": "given_name", "AttributeDataType": "String", "Required": True}])
    aws.idp.admin_create_user(UserPoolId=pool, Username="existing", MessageAction="SUPPRESS")
    rows = [
        user("ok1", given_name="A"),                                   # 1
        user("existing", given_name="A"),                              # 2 in pool
        user("dup", given_name="A"),                                   # 3
        user("dup", given_name="B"),                                   # 4 dup in file
        user("", given_name="A"),                                      # 5
        user("bademail", given_name="A", email="TODO"),                # 6
        user("badphone", given_name="A", phone_number="555-0100"),     # 7
        user("noname"),                                                # 8 required missing
        user("unverified", given_name="A", email_verified="false"),   # 9
        user("noemail", given_name="A", email=""),                     # 10
        user("mfa", given_name="A", **{"cognito__mfa_enabled": "true"}),  # 11 pool MFA OFF
        user("badbool", given_name="A", email_verified="yes"),         # 12
        user("Team.Rule-Breaker_9", given_name="A"),                   # 13 imports fine
        user("upper", given_name="A", email_verified="TRUE",
             phone_number="+14325551212", phone_number_verified="False"),  # 14
        user("bday", given_name="A", birthdate="1985-02-01"),          # 15
    ] + [user(f"ok{i}", given_name="A") for i in range(2, 16)]         # 16..29
    j = aws.run(pool, rows)
    lines = aws.log_lines(pool, j)
    assert len(lines) == len(rows)
    by_line = {int(re.match(r"\[\w+\] Line Number (\d+) - ", l).group(1)): l for l in lines}
    outcome = {n: re.match(r"\[(\w+)\]", l).group(1) for n, l in by_line.items()}
    assert outcome[1] == "SUCCEEDED"
    assert by_line[2] == "[SKIPPED] Line Number 2 - The user already exists."
    assert outcome[3] == "SUCCEEDED"
    assert by_line[4] == "[SKIPPED] Line Number 4 - The user already exists."
    assert outcome[5] == "FAILED" and "cognito:username" in by_line[5]
    assert outcome[6] == "FAILED" and "email" in by_line[6]
    assert outcome[7] == "FAILED" and "phone_number" in by_line[7]
    assert outcome[8] == "FAILED" and "given_name" in by_line[8]
    assert by_line[9] == ("[FAILED] Line Number 9 - The User Record does not set any of the auto "
                          "verified attributes to true. (Example: email_verified to true).")
    assert outcome[10] == "FAILED" and "email" in by_line[10]
    assert outcome[11] == "FAILED" and "mfa" in by_line[11].lower()
    assert outcome[12] == "FAILED" and "email_verified" in by_line[12]
    assert outcome[13] == "SUCCEEDED"
    assert outcome[14] == "SUCCEEDED"
    assert outcome[15] == "FAILED" and "birthdate" in by_line[15]
    # no user data in log lines [CWL]
    assert not any("@example.com" in l or "bademail" in l or "TODO" in l for l in lines)
    assert j["Status"] == "Succeeded"
    assert (j["ImportedUsers"], j["SkippedUsers"], j["FailedUsers"]) == (18, 2, 9)
    aws.idp.admin_get_user(UserPoolId=pool, Username="Team.Rule-Breaker_9")
    with pytest.raises(ClientError):
        aws.idp.admin_get_user(UserPoolId=pool, Username="bademail")


def test_phone_only_pool_requires_phone_verified(aws):
    pool = aws.pool(AutoVerifiedAttributes=["phone_number"])
    rows = [user("a", phone_number="+14325551212", phone_number_verified="true", email_verified="false"),
            user("b", phone_number="+14325551213", phone_number_verified="false"),  # email true is not enough
            user("c", phone_number="+14325551214", phone_number_verified="true")]
    j = aws.run(pool, rows)
    assert (j["ImportedUsers"], j["FailedUsers"]) == (2, 1)
    assert "auto verified" in aws.log_lines(pool, j)[1]


@pytest.mark.parametrize("mfa,values,expected", [
    ("ON", ["true", "", "false", "TRUE"], ["SUCCEEDED", "SUCCEEDED", "FAILED", "SUCCEEDED"]),
    ("OFF", ["false", "", "true", "FALSE"], ["SUCCEEDED", "SUCCEEDED", "FAILED", "SUCCEEDED"]),
    ("OPTIONAL", ["true", "", "false", "False"], ["SUCCEEDED"] * 4),
])
def test_mfa_enabled_rules(aws, config, mfa, values, expected):
    config(failure_share=1.0)
    pool = aws.pool(MfaConfiguration=mfa)
    rows = [user(f"u{i}", phone_number="+1432555121" + str(i), **{"cognito__mfa_enabled": v})
            for i, v in enumerate(values)]
    j = aws.run(pool, rows)
    got = [re.match(r"\[(\w+)\]", l).group(1) for l in aws.log_lines(pool, j)]
    assert got == expected


@pytest.mark.parametrize("sensitive,outcome", [(False, "SKIPPED"), (True, "SUCCEEDED")])
def test_case_sensitivity_of_existing_users(aws, config, sensitive, outcome):
    config(failure_share=1.0)
    pool = aws.pool(UsernameConfiguration={"CaseSensitive": sensitive})
    aws.idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    j = aws.run(pool, [user("ALICE")])
    assert aws.log_lines(pool, j)[0].startswith(f"[{outcome}]")


def test_case_insensitive_pool_duplicate_in_file(aws):
    pool = aws.pool(UsernameConfiguration={"CaseSensitive": False})
    j = aws.run(pool, [user("bob"), user("BOB"), user("carol")])
    assert (j["ImportedUsers"], j["SkippedUsers"]) == (2, 1)


@pytest.mark.parametrize("mutate,message", [
    (lambda h: [c for c in h if c != "nickname"], "missing required columns: nickname"),
    (lambda h: h + ["favourite_colour"], "not in the user pool: favourite_colour"),
    (lambda h: list(reversed(h)), None),      # any order is fine
])
def test_header_checked_against_get_csv_header(aws, mutate, message):
    pool = aws.pool()
    header = mutate(aws.header(pool))
    j = aws.run(pool, [user("x1"), user("x2")], header=header)
    if message is None:
        assert j["Status"] == "Succeeded" and j["ImportedUsers"] == 2
    else:
        assert j["Status"] == "Failed" and message in j["CompletionMessage"]
        assert j["ImportedUsers"] == 0


@pytest.mark.parametrize("prefix,raw_suffix,message", [
    (b"\xef\xbb\xbf", b"", "byte-order mark"),
    (b"", b"\xff\xfe,broken\n", "not valid UTF-8"),
])
def test_unparseable_file_fails_job(aws, prefix, raw_suffix, message):
    pool = aws.pool()
    data = prefix + csv_bytes(aws.header(pool), [user("a")]) + raw_suffix
    j = aws.run(pool, [], raw=data)
    assert j["Status"] == "Failed" and message in j["CompletionMessage"]


def test_crlf_and_wrong_value_count(aws, config):
    config(failure_share=1.0)
    pool = aws.pool()
    header = aws.header(pool)
    data = csv_bytes(header, [user("a"), user("b")]).replace(b"\n", b"\r\n") + b"just,three,values\r\n"
    j = aws.run(pool, [], raw=data)
    assert (j["ImportedUsers"], j["FailedUsers"]) == (2, 1)
    assert "values but the header has" in aws.log_lines(pool, j)[2]


def test_too_many_failed_or_skipped_fails_job(aws):
    pool = aws.pool()
    rows = [user("good1"), user("bad1", email="nope"), user("bad2", email="nope"), user("good1")]
    j = aws.run(pool, rows)
    assert j["Status"] == "Failed"
    assert j["CompletionMessage"] == "Too many users have failed or been skipped during the import."
    assert (j["ImportedUsers"], j["SkippedUsers"], j["FailedUsers"]) == (1, 1, 2)
    aws.idp.admin_get_user(UserPoolId=pool, Username="good1")   # imported rows stay


def test_username_attributes_pool_stores_uuid(aws):
    pool = aws.pool(UsernameAttributes=["email"])
    aws.idp.admin_create_user(UserPoolId=pool, Username="old@example.com", MessageAction="SUPPRESS")
    j = aws.run(pool, [user("new"), user("old")])
    assert (j["ImportedUsers"], j["SkippedUsers"]) == (1, 1)
    found = aws.idp.list_users(UserPoolId=pool, Filter='email = "new@example.com"')["Users"]
    assert len(found) == 1
    assert re.fullmatch(r"[0-9a-f-]{36}", found[0]["Username"])


# ---------------------------------------------------------------------------- upload

@pytest.mark.parametrize("headers,code", [
    ({}, "SignatureDoesNotMatch"),
    ({"Content-Type": "text/csv"}, "SignatureDoesNotMatch"),
    ({"x-amz-server-side-encryption": "AES256"}, "SignatureDoesNotMatch"),
    ({**SSE, "x-amz-meta-owner": "me"}, "SignatureDoesNotMatch"),
    ({**SSE, "x-amz-acl": "private"}, "SignatureDoesNotMatch"),
])
def test_upload_rejected_like_s3(aws, headers, code):
    pool = aws.pool()
    job = aws.job(pool)
    status, body = put(job["PreSignedUrl"], b"x", headers)
    assert status == 403
    assert f"<Code>{code}</Code>" in body and body.startswith("<?xml")
    with pytest.raises(ClientError) as e:
        aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    assert err(e)[0] == "PreconditionNotMetException"


def test_upload_with_content_type_and_tampered_signature(aws):
    pool = aws.pool()
    job = aws.job(pool)
    url = job["PreSignedUrl"]
    assert put(url, b"x", {**SSE, "Content-Type": "text/csv"})[0] == 200
    tampered = re.sub(r"X-Amz-Signature=([0-9a-f])", lambda m: "X-Amz-Signature=" + ("0" if m.group(1) != "0" else "1"), url)
    status, body = put(tampered, b"x", SSE)
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body
    longer = url.replace("X-Amz-Expires=900", "X-Amz-Expires=99999")
    assert put(longer, b"x", SSE)[0] == 403


def test_upload_url_expires(aws, config):
    config(url_expiry_seconds=1)
    pool = aws.pool()
    job = aws.job(pool)
    assert "X-Amz-Expires=1&" in job["PreSignedUrl"]
    time.sleep(2.1)
    status, body = put(job["PreSignedUrl"], b"x", SSE)
    assert status == 403
    assert "<Code>AccessDenied</Code>" in body and "Request has expired" in body


# ---------------------------------------------------------------------------- lifecycle

def test_start_without_upload(aws):
    pool = aws.pool()
    job = aws.job(pool)
    with pytest.raises(ClientError) as e:
        aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    assert err(e) == ("PreconditionNotMetException", f"No csv file was uploaded for {job['JobId']}", 400)


def test_start_twice_and_after_finish(aws):
    pool = aws.pool()
    j = aws.run(pool, [user("a")])
    with pytest.raises(ClientError) as e:
        aws.idp.start_user_import_job(UserPoolId=pool, JobId=j["JobId"])
    assert err(e)[0] == "PreconditionNotMetException"


def test_unknown_pool_and_job(aws):
    with pytest.raises(ClientError) as e:
        aws.idp.get_csv_header(UserPoolId="us-east-1_nothere")
    assert err(e)[0] == "ResourceNotFoundException"
    pool = aws.pool()
    with pytest.raises(ClientError) as e:
        aws.describe(pool, "import-doesnotexist")
    assert err(e)[0] == "ResourceNotFoundException"


def test_expiry(aws, config):
    config(expiry_seconds=0.5)
    pool = aws.pool()
    job = aws.job(pool)
    put(job["PreSignedUrl"], csv_bytes(aws.header(pool), [user("a")]), SSE)
    time.sleep(0.8)
    assert aws.describe(pool, job["JobId"])["Status"] == "Expired"
    with pytest.raises(ClientError) as e:
        aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    assert err(e)[0] == "PreconditionNotMetException"
    listed = aws.idp.list_user_import_jobs(UserPoolId=pool, MaxResults=5)["UserImportJobs"]
    assert listed[0]["Status"] == "Expired"


def test_stop(aws, config):
    config(rows_per_second=20)
    pool = aws.pool()
    created = aws.job(pool, name="never-started")
    with pytest.raises(ClientError) as e:
        aws.idp.stop_user_import_job(UserPoolId=pool, JobId=created["JobId"])
    assert err(e)[0] == "PreconditionNotMetException"
    job = aws.job(pool)
    put(job["PreSignedUrl"], csv_bytes(aws.header(pool), [user(f"s{i}") for i in range(100)]), SSE)
    aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    aws.wait(pool, job["JobId"], until=("InProgress",))
    time.sleep(0.2)
    stopping = aws.idp.stop_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]
    assert stopping["Status"] == "Stopping"
    j = aws.wait(pool, job["JobId"])
    assert j["Status"] == "Stopped"
    assert j["CompletionMessage"] == "The Import Job was stopped by the developer."
    assert 0 < j["ImportedUsers"] < 100 and "CompletionDate" in j
    with pytest.raises(ClientError) as e:
        aws.idp.stop_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    assert err(e)[0] == "PreconditionNotMetException"
    with pytest.raises(ClientError) as e:
        aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    assert err(e)[0] == "PreconditionNotMetException"


@pytest.mark.parametrize("code", ["PreconditionNotMetException", "LimitExceededException"])
def test_one_active_job_per_account_and_region(aws, config, code):
    # `start_refusal_code`: the default is PreconditionNotMetException (the model declares it
    # for Start); LimitExceededException is the alternative.
    if code != "PreconditionNotMetException":
        config(start_refusal_code=code)
    config(rows_per_second=50)
    pool_a, pool_b = aws.pool(), aws.pool()
    a, b = aws.job(pool_a), aws.job(pool_b)
    put(a["PreSignedUrl"], csv_bytes(aws.header(pool_a), [user(f"a{i}") for i in range(15)]), SSE)
    put(b["PreSignedUrl"], csv_bytes(aws.header(pool_b), [user("b")]), SSE)
    aws.idp.start_user_import_job(UserPoolId=pool_a, JobId=a["JobId"])
    with pytest.raises(ClientError) as e:
        aws.idp.start_user_import_job(UserPoolId=pool_b, JobId=b["JobId"])
    assert err(e)[0] == code
    assert "Only one import job can be active" in err(e)[1]
    assert aws.describe(pool_b, b["JobId"])["Status"] == "Created"
    aws.wait(pool_a, a["JobId"])
    aws.idp.start_user_import_job(UserPoolId=pool_b, JobId=b["JobId"])
    assert aws.wait(pool_b, b["JobId"])["Status"] == "Succeeded"


def test_list_user_import_jobs(aws):
    pool = aws.pool()
    role = aws.role()
    ids = [aws.job(pool, role, name=f"j{i}")["JobId"] for i in range(5)]
    pages, token = [], None
    while True:
        kw = {"PaginationToken": token} if token else {}
        r = aws.idp.list_user_import_jobs(UserPoolId=pool, MaxResults=2, **kw)
        pages.append([j["JobId"] for j in r["UserImportJobs"]])
        token = r.get("PaginationToken")
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sum(pages, []) == list(reversed(ids))          # newest first
    raw = aws.client("cognito-idp", parameter_validation=False, retries={"total_max_attempts": 1})
    for bad in (0, 61):
        with pytest.raises(ClientError) as e:
            raw.list_user_import_jobs(UserPoolId=pool, MaxResults=bad)
        assert err(e)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        raw.list_user_import_jobs(UserPoolId=pool)
    assert err(e)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        raw.list_user_import_jobs(UserPoolId=pool, MaxResults=2, PaginationToken="garbage")
    assert err(e)[0] == "InvalidParameterException"


# ---------------------------------------------------------------------------- role

def _create_job_error(aws, pool, arn):
    with pytest.raises(ClientError) as e:
        aws.job(pool, arn)
    return err(e)


def test_role_must_be_well_formed_existing_and_trusted(aws):
    pool = aws.pool()
    code, msg, status = _create_job_error(aws, pool, "not-an-arn-but-long-enough")
    assert (code, status) == ("InvalidParameterException", 400)
    code, msg, _ = _create_job_error(aws, pool, f"arn:aws:iam::{ACCOUNT}:role/does-not-exist")
    assert code == "InvalidParameterException" and "cannot be assumed by Cognito" in msg
    wrong_service = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    code, msg, _ = _create_job_error(aws, pool, aws.role(trust=wrong_service))
    assert code == "InvalidParameterException" and "cannot be assumed by Cognito" in msg


@pytest.mark.parametrize("account,ok", [(ACCOUNT, True), ("999999999999", False)])
def test_trust_with_source_account_condition(aws, account, ok):
    pool = aws.pool()
    trust = json.loads(json.dumps(TRUST))
    trust["Statement"][0]["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    arn = aws.role(trust=trust)
    if ok:
        assert aws.job(pool, arn)["Status"] == "Created"
    else:
        assert _create_job_error(aws, pool, arn)[0] == "InvalidParameterException"


def test_role_lacking_logs_permissions_fails_job(aws):
    pool = aws.pool()
    partial = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream"],
        "Resource": "arn:aws:logs:*:*:log-group:/aws/cognito/*"}]}
    j = aws.run(pool, [user("a")], role_arn=aws.role(policy=partial))
    assert j["Status"] == "Failed"
    assert "lacks permissions" in j["CompletionMessage"] and "logs:PutLogEvents" in j["CompletionMessage"]
    assert j["ImportedUsers"] == 0
    j = aws.run(pool, [user("b")], role_arn=aws.role(policy=None))
    assert j["Status"] == "Failed" and "lacks permissions" in j["CompletionMessage"]
    other_prefix = json.loads(json.dumps(LOGS_POLICY))
    other_prefix["Statement"][0]["Resource"] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/*"
    j = aws.run(pool, [user("c")], role_arn=aws.role(policy=other_prefix))
    assert j["Status"] == "Failed"


def test_role_with_attached_managed_policy_and_wildcards(aws):
    pool = aws.pool()
    name = "managed-" + aws.akid[-8:]
    arn = aws.role(name=name, policy=None)
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
    pol = aws.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
    aws.iam.attach_role_policy(RoleName=name, PolicyArn=pol)
    j = aws.run(pool, [user("a")], role_arn=arn)
    assert j["Status"] == "Succeeded"


def test_role_deleted_after_create_fails_job(aws):
    pool = aws.pool()
    name = "gone-" + aws.akid[-8:]
    arn = aws.role(name=name)
    job = aws.job(pool, arn)
    put(job["PreSignedUrl"], csv_bytes(aws.header(pool), [user("a")]), SSE)
    aws.iam.delete_role_policy(RoleName=name, PolicyName="logs")
    aws.iam.delete_role(RoleName=name)
    aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    j = aws.wait(pool, job["JobId"])
    assert j["Status"] == "Failed" and "could not be assumed" in j["CompletionMessage"]


def test_log_line_numbering_switch(aws, config):
    # `log_line_numbering`: "data_rows" (default) numbers the first data row 1;
    # "header_counted" numbers the header 1, so the first data row is 2.
    for numbering, first in (("data_rows", 1), ("header_counted", 2)):
        config(log_line_numbering=numbering, rows_per_second=0)
        pool = aws.pool()
        job = aws.job(pool)
        put(job["PreSignedUrl"], csv_bytes(aws.header(pool), [user("n1"), user("n2"), user("n3")]), SSE)
        aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
        j = aws.wait(pool, job["JobId"])
        lines = aws.log_lines(pool, j)
        assert lines == [f"[SUCCEEDED] Line Number {n} - The import succeeded." for n in range(first, first + 3)]


def test_config_switches_reject_unknown_values(endpoint):
    from conftest import control
    status, body = control(endpoint, "POST", "/_emulator/config", {"start_refusal_code": "Nope"})
    assert status == 400, body
    status, body = control(endpoint, "POST", "/_emulator/config", {"log_line_numbering": "zero"})
    assert status == 400, body


def test_switches_can_be_set_per_access_key(aws):
    # The same two switches as fault keys override the global config for one access key, so
    # that parallel tests sharing an emulator do not see each other's choice.
    aws.faults({"log_line_numbering": "header_counted"})
    pool = aws.pool()
    job = aws.job(pool)
    put(job["PreSignedUrl"], csv_bytes(aws.header(pool), [user("k1")]), SSE)
    aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    j = aws.wait(pool, job["JobId"])
    assert aws.log_lines(pool, j) == ["[SUCCEEDED] Line Number 2 - The import succeeded."]


def test_url_expiry_per_access_key(aws):
    aws.faults({"url_expiry_seconds": 1})
    pool = aws.pool()
    job = aws.job(pool)
    time.sleep(1.5)
    status, body = put(job["PreSignedUrl"], csv_bytes(aws.header(pool), [user("x1")]), SSE)
    assert status == 403 and "expired" in body
