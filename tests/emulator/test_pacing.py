"""Latency, request-rate quotas, GetProvisionedLimit, the `sub` prefix filter and token
expiry: what the pacing of cognito-sync is measured against (README, "Rate limits")."""

from __future__ import annotations

import threading
import time

from conftest import Aws, control
from test_faults import code_of


def seed(aws: Aws, pool: str, n: int) -> None:
    status, body = control(aws.endpoint, "POST", "/_emulator/seed-users",
                           {"pool_id": pool, "region": "us-east-1", "count": n})
    assert status == 200, body


def test_latency_is_fixed_plus_per_operation_plus_per_listed_user(aws, config):
    pool = aws.pool()
    seed(aws, pool, 60)
    config(latency_ms=30, operation_latency_ms={"ListUsers": 100}, list_users_per_user_ms=4)

    def timed(fn) -> float:
        t = time.monotonic()
        fn()
        return time.monotonic() - t

    describe = timed(lambda: aws.idp.describe_user_pool(UserPoolId=pool))
    full_page = timed(lambda: aws.idp.list_users(UserPoolId=pool, Limit=60))
    small_page = timed(lambda: aws.idp.list_users(UserPoolId=pool, Limit=1))
    # lower bounds are exact; the machine may add to them, never take away
    assert 0.03 <= describe < 0.03 + 0.5, describe
    assert 0.03 + 0.1 + 0.24 <= full_page < 0.37 + 0.5, full_page
    assert 0.03 + 0.1 + 0.004 <= small_page < full_page - 0.1, (small_page, full_page)


def test_a_quota_answers_too_many_requests_per_category(aws, config):
    pool = aws.pool()
    config(quotas={"UserPoolRead": 5}, quota_scope="access_key")
    codes = [code_of(lambda: aws.idp.describe_user_pool(UserPoolId=pool)) for _ in range(8)]
    # one second's worth passes, the rest is throttled as Cognito does it
    assert codes[:5] == [None] * 5, codes
    assert ("TooManyRequestsException", 429) in codes[5:], codes
    # another category is not affected, nor another access key (scope access_key)
    assert code_of(lambda: aws.idp.list_users(UserPoolId=pool, Limit=1)) is None
    other = Aws(aws.endpoint)
    assert code_of(lambda: other.idp.describe_user_pool(UserPoolId=pool)) is None
    counts = aws.counts()
    assert counts["Throttled"] == codes.count(("TooManyRequestsException", 429))
    time.sleep(0.25)
    assert code_of(lambda: aws.idp.describe_user_pool(UserPoolId=pool)) is None, "refilled"


def test_an_access_key_can_have_its_own_quotas(aws, config):
    pool = aws.pool()
    config(quotas={"UserPoolRead": 1000})
    aws.faults({"quotas": {"UserPoolRead": 3}})
    codes = [code_of(lambda: aws.idp.describe_user_pool(UserPoolId=pool)) for _ in range(5)]
    assert codes[:3] == [None] * 3 and ("TooManyRequestsException", 429) in codes[3:], codes
    other = Aws(aws.endpoint)
    assert [code_of(lambda: other.idp.describe_user_pool(UserPoolId=pool)) for _ in range(5)] == [None] * 5


def test_an_account_quota_is_shared_by_every_caller(aws, config):
    pool = aws.pool()
    config(quotas={"UserList": 10}, quota_scope="account")
    other = Aws(aws.endpoint)
    results = []
    lock = threading.Lock()

    def call(client):
        r = code_of(lambda: client.idp.list_users(UserPoolId=pool, Limit=1))
        with lock:
            results.append(r)

    threads = [threading.Thread(target=call, args=(c,)) for c in [aws, other] * 10]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = results.count(None)
    assert 10 <= ok <= 12, results       # 10 a second between both keys (and a little refill)


def test_get_provisioned_limit_reports_the_enforced_or_documented_quota(aws, config):
    def limit(category):
        return aws.idp.get_provisioned_limit(LimitDefinition={
            "LimitClass": "API_CATEGORY", "Attributes": {"Category": category}})["Limit"]

    got = limit("UserRead")
    assert (got["ProvisionedLimitValue"], got["FreeLimitValue"]) == (120, 120)
    assert got["LimitDefinition"]["Attributes"] == {"Category": "UserRead"}
    config(quotas={"UserRead": 300})
    assert limit("UserRead")["ProvisionedLimitValue"] == 300
    assert code_of(lambda: limit("NoSuchCategory"))[0] == "InvalidParameterException"
    aws.faults({"deny": ["GetProvisionedLimit"]})
    assert code_of(lambda: limit("UserRead")) == ("AccessDeniedException", 400)


def test_sub_prefix_filters_partition_the_pool(aws):
    pool = aws.pool()
    seed(aws, pool, 300)
    everyone = set()
    for digit in "0123456789abcdef":
        token, part = None, []
        while True:
            kw = {"PaginationToken": token} if token else {}
            page = aws.idp.list_users(UserPoolId=pool, Limit=60, Filter=f'sub ^= "{digit}"', **kw)
            part += [u["Username"] for u in page["Users"]]
            for u in page["Users"]:
                sub = next(a["Value"] for a in u["Attributes"] if a["Name"] == "sub")
                assert sub.startswith(digit)
            token = page.get("PaginationToken")
            if not token:
                break
        assert not everyone & set(part)
        everyone |= set(part)
    assert len(everyone) == 300
    upper = aws.idp.list_users(UserPoolId=pool, Limit=60, Filter='sub ^= "A"')["Users"]
    lower = aws.idp.list_users(UserPoolId=pool, Limit=60, Filter='sub ^= "a"')["Users"]
    assert upper == lower, "sub is searched case-insensitively"


def test_a_pagination_token_expires_with_its_chain(aws, config):
    pool = aws.pool()
    seed(aws, pool, 130)
    config(token_ttl_seconds=0.3)
    first = aws.idp.list_users(UserPoolId=pool, Limit=60)
    second = aws.idp.list_users(UserPoolId=pool, Limit=60, PaginationToken=first["PaginationToken"])
    time.sleep(0.35)
    # measured from the chain's first page, not from the token's own page
    code = code_of(lambda: aws.idp.list_users(UserPoolId=pool, Limit=60,
                                             PaginationToken=second["PaginationToken"]))
    assert code == ("InvalidParameterException", 400)


def test_filter_patterns_select_the_rows_a_report_needs(aws):
    logs = aws.logs
    group, stream = "/aws/cognito/userpools/p/filter", "import-x/job"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    messages = ["[SUCCEEDED] Line Number 1 - The import succeeded.",
                "[FAILED] Line Number 2 - The email is invalid.",
                "[SUCCEEDED] Line Number 3 - The import succeeded.",
                "[SKIPPED] Line Number 4 - The user already exists."]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": int(time.time() * 1000) + i, "message": m} for i, m in enumerate(messages)])

    def matching(pattern):
        events = logs.filter_log_events(logGroupName=group, logStreamNames=[stream],
                                        filterPattern=pattern)["events"]
        return [e["message"] for e in events]

    assert matching('?"[FAILED]" ?"[SKIPPED]"') == [messages[1], messages[3]]
    assert matching("SUCCEEDED") == [messages[0], messages[2]]
    assert matching('"Line Number" -SUCCEEDED') == [messages[1], messages[3]]
    assert matching("Line email") == [messages[1]]
    assert matching("") == messages


def test_the_expired_token_switches(aws, config):
    pool = aws.pool()
    seed(aws, pool, 130)
    # One access key's own lifetime, the other error, each token's hour from its own page.
    aws.faults({"token_ttl_seconds": 0.4, "expired_token_error": "NotAuthorizedException",
                "token_hour_start": "issuing_page"})
    first = aws.idp.list_users(UserPoolId=pool, Limit=60)
    time.sleep(0.25)
    second = aws.idp.list_users(UserPoolId=pool, Limit=60, PaginationToken=first["PaginationToken"])
    time.sleep(0.25)
    # the chain is 0.5 s old, the second page's token 0.25 s: still valid
    assert aws.idp.list_users(UserPoolId=pool, Limit=60, PaginationToken=second["PaginationToken"])["Users"]
    time.sleep(0.2)
    code = code_of(lambda: aws.idp.list_users(UserPoolId=pool, Limit=60,
                                             PaginationToken=first["PaginationToken"]))
    assert code == ("NotAuthorizedException", 400)


def test_a_fault_can_let_the_first_requests_pass(aws):
    pool = aws.pool()
    aws.faults({"throttle": {"operations": ["DescribeUserPool"], "after": 2, "count": 1}})
    codes = [code_of(lambda: aws.idp.describe_user_pool(UserPoolId=pool)) for _ in range(4)]
    assert codes == [None, None, ("TooManyRequestsException", 429), None], codes


def test_fixed_window_quotas_refill_at_the_calendar_second(aws):
    pool = aws.pool()
    aws.faults({"quotas": {"UserPoolRead": 4}, "quota_second": "fixed_window"})
    time.sleep(max(0.0, int(time.time()) + 1.1 - time.time()))
    codes = [code_of(lambda: aws.idp.describe_user_pool(UserPoolId=pool)) for _ in range(6)]
    assert codes[:4] == [None] * 4 and codes[4:] == [("TooManyRequestsException", 429)] * 2, codes
    time.sleep(max(0.0, int(time.time()) + 1.05 - time.time()))
    # a new second: the whole quota again (a token bucket would have refilled a part)
    assert [code_of(lambda: aws.idp.describe_user_pool(UserPoolId=pool)) for _ in range(4)] == [None] * 4


def test_category_switches_move_an_operation_to_another_quota(aws):
    pool = aws.pool()
    aws.faults({"quotas": {"UserPoolResourceRead": 2}})
    # GetCSVHeader counts against UserPoolRead (no quota here): never throttled
    assert [code_of(lambda: aws.idp.get_csv_header(UserPoolId=pool)) for _ in range(4)] == [None] * 4
    aws.faults({"quotas": {"UserPoolResourceRead": 2, "UserPoolResourceUpdate": 1},
                "category_get_csv_header": "UserPoolResourceRead",
                "category_import_jobs": "UserPoolResource"})
    codes = [code_of(lambda: aws.idp.get_csv_header(UserPoolId=pool)) for _ in range(4)]
    assert codes[:2] == [None] * 2 and ("TooManyRequestsException", 429) in codes[2:], codes
    # import-job reads share UserPoolResourceRead (drained above), the others UserPoolResourceUpdate
    assert code_of(lambda: aws.idp.list_user_import_jobs(UserPoolId=pool, MaxResults=1)) == (
        "TooManyRequestsException", 429)
    role = "arn:aws:iam::123456789012:role/none"
    assert code_of(lambda: aws.idp.create_user_import_job(
        UserPoolId=pool, JobName="j", CloudWatchLogsRoleArn=role))[0] != "TooManyRequestsException"
    assert code_of(lambda: aws.idp.create_user_import_job(
        UserPoolId=pool, JobName="j", CloudWatchLogsRoleArn=role)) == ("TooManyRequestsException", 429)
