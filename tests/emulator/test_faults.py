"""Fault switches and request counters of the control API."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from conftest import SSE, Aws, control, csv_bytes, put, user


def code_of(fn) -> tuple[str, int] | None:
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


def test_throttle_count_then_recovers(aws):
    pool = aws.pool()
    aws.faults({"throttle": {"count": 2, "operations": ["ListUsers"]}})
    call = lambda: aws.idp.list_users(UserPoolId=pool, Limit=10)   # noqa: E731
    assert code_of(call) == ("TooManyRequestsException", 429)
    assert code_of(lambda: aws.idp.describe_user_pool(UserPoolId=pool)) is None  # other op
    assert code_of(call) == ("TooManyRequestsException", 429)
    assert code_of(call) is None
    assert aws.counts()["ListUsers"] == 3          # faulted requests are counted too


def test_throttle_is_retried_by_the_sdk(endpoint):
    a = Aws(endpoint, retries=5)
    pool = a.pool()
    a.faults({"throttle": {"count": 2, "operations": ["DescribeUserPool"]}})
    a.idp.describe_user_pool(UserPoolId=pool)      # botocore classifies it as throttling
    assert a.counts()["DescribeUserPool"] == 3
    a.cleanup()


def test_throttle_rate_is_seeded(aws):
    pool = aws.pool()

    def pattern():
        aws.faults({"throttle": {"rate": 0.5, "operations": ["ListUsers"]}, "seed": 7})
        return [code_of(lambda: aws.idp.list_users(UserPoolId=pool)) is not None for _ in range(16)]

    first, second = pattern(), pattern()
    assert first == second
    assert 2 <= sum(first) <= 14


def test_server_error_all_operations(aws):
    pool = aws.pool()
    aws.faults({"server_error": {"count": 1}})
    assert code_of(lambda: aws.idp.get_csv_header(UserPoolId=pool)) == ("InternalErrorException", 500)
    assert code_of(lambda: aws.idp.get_csv_header(UserPoolId=pool)) is None


def test_faults_on_iam_and_logs_use_their_protocols(aws):
    aws.faults({"throttle": {"count": 2, "operations": ["GetRole", "DescribeLogGroups"]},
                "server_error": {"count": 1, "operations": ["ListRoles"]}})
    assert code_of(lambda: aws.iam.get_role(RoleName="x")) == ("Throttling", 400)
    assert code_of(lambda: aws.logs.describe_log_groups()) == ("ThrottlingException", 400)
    assert code_of(lambda: aws.iam.list_roles())[1] == 500
    assert code_of(lambda: aws.iam.list_roles()) is None
    counts = aws.counts()
    assert counts["GetRole"] == 1 and counts["DescribeLogGroups"] == 1 and counts["ListRoles"] == 2


def test_faults_and_counts_are_scoped_by_access_key(endpoint, aws):
    other = Aws(endpoint)
    pool = aws.pool()
    aws.faults({"throttle": {"rate": 1.0}})
    assert code_of(lambda: other.idp.describe_user_pool(UserPoolId=pool)) is None
    assert code_of(lambda: aws.idp.describe_user_pool(UserPoolId=pool)) == ("TooManyRequestsException", 429)
    assert other.counts() == {"DescribeUserPool": 1}
    aws.clear_faults()
    assert code_of(lambda: aws.idp.describe_user_pool(UserPoolId=pool)) is None
    assert control(endpoint, "DELETE", f"/_emulator/counts?access_key={aws.akid}")[0] == 200
    assert aws.counts() == {}
    other.cleanup()


def test_fail_upload(aws):
    pool = aws.pool()
    job = aws.job(pool)
    aws.faults({"fail_upload": {"count": 1, "status": 500}})
    data = csv_bytes(aws.header(pool), [user("a")])
    status, body = put(job["PreSignedUrl"], data, SSE)
    assert status == 500 and "<Code>InternalError</Code>" in body
    assert put(job["PreSignedUrl"], data, SSE)[0] == 200
    assert aws.counts()["UploadCSV"] == 2


def test_hold_upload_answers_once_cleared(aws):
    import threading
    pool = aws.pool()
    job = aws.job(pool)
    aws.faults({"hold_upload": True})
    data = csv_bytes(aws.header(pool), [user("a")])
    answer = []
    upload = threading.Thread(target=lambda: answer.append(put(job["PreSignedUrl"], data, SSE)))
    upload.start()
    time.sleep(0.5)
    assert not answer and aws.counts()["UploadCSV"] == 1
    aws.clear_faults()
    upload.join(10)
    assert answer and answer[0][0] == 200
    aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    assert aws.wait(pool, job["JobId"])["ImportedUsers"] == 1


def test_hold_start_keeps_the_job_pending_until_cleared(aws):
    pool = aws.pool()
    job = aws.job(pool)
    aws.faults({"hold_start": True})
    put(job["PreSignedUrl"], csv_bytes(aws.header(pool), [user("a")]), SSE)
    aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    time.sleep(0.8)
    assert aws.describe(pool, job["JobId"])["Status"] == "Pending"
    aws.clear_faults()
    assert aws.wait(pool, job["JobId"])["Status"] == "Succeeded"


def test_slow_start(aws):
    pool = aws.pool()
    aws.faults({"slow_start_seconds": 1.0})
    job = aws.job(pool)
    put(job["PreSignedUrl"], csv_bytes(aws.header(pool), [user("a")]), SSE)
    aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    time.sleep(0.6)
    assert aws.describe(pool, job["JobId"])["Status"] == "Pending"
    assert aws.wait(pool, job["JobId"])["Status"] == "Succeeded"


def test_fail_job(aws):
    pool = aws.pool()
    aws.faults({"fail_job": "Injected: the import failed."})
    j = aws.run(pool, [user("a")])
    assert j["Status"] == "Failed" and j["CompletionMessage"] == "Injected: the import failed."
    assert j["ImportedUsers"] == 0


def test_fail_rows(aws):
    pool = aws.pool()
    aws.faults({"fail_rows": ["b"]})
    j = aws.run(pool, [user("a"), user("b"), user("c")])
    assert (j["ImportedUsers"], j["FailedUsers"]) == (2, 1)
    lines = aws.log_lines(pool, j)
    assert any(line.startswith("[FAILED] Line Number 2 - An internal error") for line in lines), lines


def test_role_propagation(aws):
    pool = aws.pool()
    aws.faults({"role_propagation_seconds": 1.5})
    role = aws.role()
    with pytest.raises(ClientError) as e:
        aws.job(pool, role)
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    time.sleep(1.6)
    assert aws.job(pool, role)["Status"] == "Created"


def test_control_api_validation(endpoint):
    assert control(endpoint, "POST", "/_emulator/faults", {"throttle": {"count": 1}})[0] == 400
    assert control(endpoint, "POST", "/_emulator/faults?access_key=K", {"nonsense": 1})[0] == 400
    assert control(endpoint, "GET", "/_emulator/counts")[0] == 400
    assert control(endpoint, "POST", "/_emulator/config", {"nonsense": 1})[0] == 400
    status, cfg = control(endpoint, "GET", "/_emulator/config")
    assert status == 200 and "rows_per_second" in cfg
