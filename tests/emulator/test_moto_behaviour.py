"""moto behaviour that cognito-sync relies on (with the emulator's patches), the
emulator's process lifecycle, and seed.py."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError

from conftest import HERE, REGION, control, start_server


def seed(aws, pool, n, prefix="user"):
    status, body = control(aws.endpoint, "POST", "/_emulator/seed-users",
                           {"pool_id": pool, "region": REGION, "count": n, "prefix": prefix})
    assert status == 200, body
    return body


def test_list_users_paging_and_limit(aws):
    pool = aws.pool()
    seed(aws, pool, 130)
    sizes, names, token = [], [], None
    while True:
        kw = {"PaginationToken": token} if token else {}
        r = aws.idp.list_users(UserPoolId=pool, Limit=60, AttributesToGet=["email"], **kw)
        sizes.append(len(r["Users"]))
        names += [u["Username"] for u in r["Users"]]
        assert all([a["Name"] for a in u["Attributes"]] == ["email"] for u in r["Users"])
        token = r.get("PaginationToken")
        if not token:
            break
    assert sizes == [60, 60, 10] and len(set(names)) == 130
    with pytest.raises(ClientError) as e:
        aws.idp.list_users(UserPoolId=pool, Limit=61)
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        aws.idp.list_users(UserPoolId=pool, PaginationToken="bogus")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_list_users_filters(aws):
    pool = aws.pool()
    seed(aws, pool, 5)
    by_name = aws.idp.list_users(UserPoolId=pool, Filter='username = "user000003"')["Users"]
    assert [u["Username"] for u in by_name] == ["user000003"]
    assert aws.idp.list_users(UserPoolId=pool, Filter='username = "USER000003"')["Users"] == []
    by_email = aws.idp.list_users(UserPoolId=pool, Filter='email = "User000004@Example.com"')["Users"]
    assert [u["Username"] for u in by_email] == ["user000004"]
    prefix = aws.idp.list_users(UserPoolId=pool, Filter='username ^= "user00000"')["Users"]
    assert len(prefix) == 5
    assert aws.idp.list_users(UserPoolId=pool, Filter='email = "nobody@example.com"')["Users"] == []


def test_describe_user_pool_fields(aws):
    pool = aws.pool(
        Schema=[{"Name": "department", "AttributeDataType": "String", "Mutable": True},
                {"Name": "given_name", "AttributeDataType": "String", "Required": True}],
        UsernameConfiguration={"CaseSensitive": False}, MfaConfiguration="OPTIONAL",
        AutoVerifiedAttributes=["email", "phone_number"])
    seed(aws, pool, 3)
    p = aws.idp.describe_user_pool(UserPoolId=pool)["UserPool"]
    assert p["UsernameConfiguration"] == {"CaseSensitive": False}
    assert p["AutoVerifiedAttributes"] == ["email", "phone_number"]
    assert p["MfaConfiguration"] == "OPTIONAL"
    assert p["EstimatedNumberOfUsers"] == 3
    schema = {a["Name"]: a for a in p["SchemaAttributes"]}
    assert {"email", "phone_number", "email_verified", "custom:department", "given_name"} <= set(schema)
    assert schema["given_name"]["Required"] is True and schema["email"]["Required"] is False
    header = aws.header(pool)
    assert "custom:department" in header and "email" in header


def test_admin_get_user_case_insensitive_pool(aws):
    pool = aws.pool(UsernameConfiguration={"CaseSensitive": False})
    aws.idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    assert aws.idp.admin_get_user(UserPoolId=pool, Username="ALICE")["Username"] == "alice"
    strict = aws.pool()
    aws.idp.admin_create_user(UserPoolId=strict, Username="alice", MessageAction="SUPPRESS")
    with pytest.raises(ClientError) as e:
        aws.idp.admin_get_user(UserPoolId=strict, Username="ALICE")
    assert e.value.response["Error"]["Code"] == "UserNotFoundException"


def test_iam_role_calls(aws):
    name = "iamcheck-" + aws.akid[-6:]
    aws.role(name=name)
    role = aws.iam.get_role(RoleName=name)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] == "cognito-idp.amazonaws.com"
    assert aws.iam.list_role_policies(RoleName=name)["PolicyNames"] == ["logs"]
    doc = aws.iam.get_role_policy(RoleName=name, PolicyName="logs")["PolicyDocument"]
    assert "logs:PutLogEvents" in doc["Statement"][0]["Action"]
    assert aws.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []


def test_ready_line_and_stdin_eof_stops_server():
    proc, url = start_server()
    assert url.startswith("http://127.0.0.1:")
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0


def test_sigterm_stops_server_without_stdin_watch():
    proc = subprocess.Popen([str(HERE / "emulator"), "serve", "--no-stdin-watch"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert line.startswith("ready ")
    time.sleep(0.3)
    assert proc.poll() is None          # /dev/null stdin did not stop it
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_seed_script(aws):
    out = subprocess.run(
        [sys.executable, str(HERE / "seed.py"), "--endpoint", aws.endpoint, "--region", REGION,
         "--name", "seeded", "--users", "2000", "--custom-attr", "department",
         "--case-insensitive", "--mfa", "OPTIONAL"],
        capture_output=True, text=True, check=True)
    pool = out.stdout.strip()
    p = aws.idp.describe_user_pool(UserPoolId=pool)["UserPool"]
    assert p["EstimatedNumberOfUsers"] == 2000 and p["Name"] == "seeded"
    assert p["UsernameConfiguration"] == {"CaseSensitive": False}
    assert "custom:department" in aws.header(pool)
    u = aws.idp.admin_get_user(UserPoolId=pool, Username="user001999")
    assert {"Name": "email_verified", "Value": "true"} in u["UserAttributes"]


def test_groups_follow_cognito_limits_and_page_by_60(aws):
    pool = aws.pool()
    seed(aws, pool, 130)
    aws.idp.create_group(UserPoolId=pool, GroupName="staff", Precedence=1, Description="Staff")
    # (boto3 itself refuses lengths and a negative precedence before sending.)
    for bad in ({"GroupName": "two words"}, {"GroupName": "tab\there"}):
        with pytest.raises(ClientError) as e:
            aws.idp.create_group(UserPoolId=pool, **bad)
        assert e.value.response["Error"]["Code"] == "InvalidParameterException", bad
    with pytest.raises(ClientError) as e:
        aws.idp.create_group(UserPoolId=pool, GroupName="staff")
    assert e.value.response["Error"]["Code"] == "GroupExistsException"
    for i in range(130):
        aws.idp.admin_add_user_to_group(UserPoolId=pool, GroupName="staff", Username=f"user{i:06d}")
    # Adding a member again is not an error (idempotent).
    aws.idp.admin_add_user_to_group(UserPoolId=pool, GroupName="staff", Username="user000000")
    sizes, names, token = [], [], None
    while True:
        kw = {"NextToken": token} if token else {}
        r = aws.idp.list_users_in_group(UserPoolId=pool, GroupName="staff", Limit=60, **kw)
        sizes.append(len(r["Users"]))
        names += [u["Username"] for u in r["Users"]]
        assert all("Enabled" in u for u in r["Users"])
        token = r.get("NextToken")
        if not token:
            break
    assert sizes == [60, 60, 10] and len(set(names)) == 130
    for op, kw in (("list_users_in_group", {"GroupName": "staff"}), ("list_groups", {}),
                   ("admin_list_groups_for_user", {"Username": "user000000"})):
        with pytest.raises(ClientError) as e:
            getattr(aws.idp, op)(UserPoolId=pool, Limit=61, **kw)
        assert e.value.response["Error"]["Code"] == "InvalidParameterException", op
    groups = aws.idp.admin_list_groups_for_user(UserPoolId=pool, Username="user000000")["Groups"]
    assert [g["GroupName"] for g in groups] == ["staff"]
    with pytest.raises(ClientError) as e:
        aws.idp.admin_add_user_to_group(UserPoolId=pool, GroupName="staff", Username="nobody")
    assert e.value.response["Error"]["Code"] == "UserNotFoundException"
    with pytest.raises(ClientError) as e:
        aws.idp.admin_add_user_to_group(UserPoolId=pool, GroupName="ghosts", Username="user000000")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_user_belongs_to_at_most_100_groups(aws):
    pool = aws.pool()
    seed(aws, pool, 1)
    for i in range(101):
        aws.idp.create_group(UserPoolId=pool, GroupName=f"g{i:03d}")
    for i in range(100):
        aws.idp.admin_add_user_to_group(UserPoolId=pool, GroupName=f"g{i:03d}", Username="user000000")
    with pytest.raises(ClientError) as e:
        aws.idp.admin_add_user_to_group(UserPoolId=pool, GroupName="g100", Username="user000000")
    # chosen: a declared error (switch group_limit_error for the alternative)
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    aws.faults({"group_limit_error": "LimitExceededException"})
    with pytest.raises(ClientError) as e:
        aws.idp.admin_add_user_to_group(UserPoolId=pool, GroupName="g100", Username="user000000")
    assert e.value.response["Error"]["Code"] == "LimitExceededException"
    aws.clear_faults()
    # Already a member: still fine at the limit.
    aws.idp.admin_add_user_to_group(UserPoolId=pool, GroupName="g000", Username="user000000")


def test_disable_and_enable_show_in_list_users_and_admin_get_user(aws):
    pool = aws.pool()
    seed(aws, pool, 2)
    aws.idp.admin_disable_user(UserPoolId=pool, Username="user000001")
    users = {u["Username"]: u["Enabled"] for u in aws.idp.list_users(UserPoolId=pool)["Users"]}
    assert users == {"user000000": True, "user000001": False}
    assert aws.idp.admin_get_user(UserPoolId=pool, Username="user000001")["Enabled"] is False
    filtered = aws.idp.list_users(UserPoolId=pool, Filter='status = "Disabled"')["Users"]
    assert [u["Username"] for u in filtered] == ["user000001"]
    aws.idp.admin_enable_user(UserPoolId=pool, Username="user000001")
    assert aws.idp.admin_get_user(UserPoolId=pool, Username="user000001")["Enabled"] is True
    with pytest.raises(ClientError) as e:
        aws.idp.admin_disable_user(UserPoolId=pool, Username="nobody")
    assert e.value.response["Error"]["Code"] == "UserNotFoundException"
