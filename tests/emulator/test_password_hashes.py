"""Password-hash import jobs (SPEC §9, reference §10), driven through boto3."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import password_hashes as ph
from conftest import SSE, csv_bytes, put, user

PASSWORD = "correct horse battery staple"


def hash_job(aws, pool: str, algorithm: str | None, rows, header=None) -> dict:
    """Create (with the algorithm), upload, start and wait; returns the finished job."""
    kw = {"PasswordHashingAlgorithm": algorithm} if algorithm else {}
    job = aws.idp.create_user_import_job(UserPoolId=pool, JobName="hashes", CloudWatchLogsRoleArn=aws.role(),
                                         **kw)["UserImportJob"]
    aws.jobs.append((pool, job["JobId"]))
    if header is None:
        header = aws.header(pool) + (["password_hash"] if algorithm else [])
    status, body = put(job["PreSignedUrl"], csv_bytes(header, rows), SSE)
    assert status == 200, body
    aws.idp.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    return aws.wait(pool, job["JobId"])


def sign_in(aws, pool: str, username: str, password: str) -> bool:
    client = aws.idp.create_user_pool_client(
        UserPoolId=pool, ClientName="app",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    try:
        out = aws.idp.admin_initiate_auth(UserPoolId=pool, ClientId=client["ClientId"],
                                          AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                          AuthParameters={"USERNAME": username, "PASSWORD": password})
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NotAuthorizedException", e.response
        return False
    return "AccessToken" in out.get("AuthenticationResult", {})


def status(aws, pool: str, username: str) -> str:
    return aws.idp.admin_get_user(UserPoolId=pool, Username=username)["UserStatus"]


def test_parameter_accepted_echoed_and_validated(aws):
    pool = aws.pool()
    job = aws.idp.create_user_import_job(UserPoolId=pool, JobName="j", CloudWatchLogsRoleArn=aws.role(),
                                         PasswordHashingAlgorithm="ARGON2ID")["UserImportJob"]
    aws.jobs.append((pool, job["JobId"]))
    assert job["PasswordHashingAlgorithm"] == "ARGON2ID"
    assert aws.describe(pool, job["JobId"])["PasswordHashingAlgorithm"] == "ARGON2ID"
    listed = aws.idp.list_user_import_jobs(UserPoolId=pool, MaxResults=10)["UserImportJobs"]
    assert listed[0]["PasswordHashingAlgorithm"] == "ARGON2ID"
    plain = aws.job(pool)
    assert "PasswordHashingAlgorithm" not in plain
    with pytest.raises(ClientError) as e:
        aws.idp.create_user_import_job(UserPoolId=pool, JobName="j", CloudWatchLogsRoleArn=aws.role(),
                                       PasswordHashingAlgorithm="MD5")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_algorithm_without_the_column_fails_the_job(aws):
    pool = aws.pool()
    job = hash_job(aws, pool, "BCRYPT", [user("alice")], header=aws.header(pool))
    assert job["Status"] == "Failed"
    assert "password_hash" in job["CompletionMessage"]
    assert job["ImportedUsers"] == 0


@pytest.mark.parametrize("algorithm", ph.ALGORITHMS)
def test_valid_hash_confirmed_and_signs_in_with_the_old_password(aws, algorithm):
    pool = aws.pool()
    rows = [user("hashed", password_hash=ph.make(algorithm, PASSWORD)), user("blank"),
            user("broken", password_hash="$2b$04$tooshort" if algorithm != "BCRYPT" else "$argon2id$v=19$x")]
    job = hash_job(aws, pool, algorithm, rows)
    assert (job["ImportedUsers"], job["FailedUsers"]) == (2, 1), job
    assert job["PasswordHashingAlgorithm"] == algorithm
    assert status(aws, pool, "hashed") == "CONFIRMED"
    assert status(aws, pool, "blank") == "RESET_REQUIRED"
    lines = aws.log_lines(pool, job)
    assert lines[2] == f"[FAILED] Line Number 3 - The password_hash value is not a valid {algorithm} hash."
    assert sign_in(aws, pool, "hashed", PASSWORD)
    assert not sign_in(aws, pool, "hashed", PASSWORD + "!")
    assert not sign_in(aws, pool, "blank", PASSWORD)
    # The hash never comes back: not as an attribute, not in the log.
    got = aws.idp.admin_get_user(UserPoolId=pool, Username="hashed")
    assert not any(a["Name"] == "password_hash" for a in got["UserAttributes"])
    assert not any("$" in line for line in lines)


def test_header_listing_password_hash_is_a_switch(aws):
    pool = aws.pool()
    assert "password_hash" not in aws.header(pool)
    aws.faults({"csv_header_lists_password_hash": "listed"})
    header = aws.header(pool)
    assert header[-1] == "password_hash"
    # A plain job then carries the column with blank cells; a hash in it fails its row.
    job = hash_job(aws, pool, None, [user("plain"), user("sneaky", password_hash=ph.make("BCRYPT", "x"))],
                   header=header)
    assert (job["ImportedUsers"], job["FailedUsers"]) == (1, 1)
    assert status(aws, pool, "plain") == "RESET_REQUIRED"
    job = hash_job(aws, pool, "SCRYPT", [user("viaheader", password_hash=ph.make("SCRYPT", PASSWORD))],
                   header=header)
    assert job["ImportedUsers"] == 1
    assert sign_in(aws, pool, "viaheader", PASSWORD)


def test_hash_without_algorithm_can_be_ignored(aws):
    pool = aws.pool()
    # Not listed by GetCSVHeader, and still accepted and ignored.
    aws.faults({"hash_without_algorithm": "ignore"})
    job = hash_job(aws, pool, None, [user("sneaky", password_hash=ph.make("BCRYPT", "x"))],
                   header=aws.header(pool) + ["password_hash"])
    assert job["ImportedUsers"] == 1
    assert status(aws, pool, "sneaky") == "RESET_REQUIRED"


def test_strict_forms_and_malformed_hash_failing_the_job_are_switches(aws):
    pool = aws.pool()
    two_a = ph.make("BCRYPT", PASSWORD).replace("$2b$", "$2a$", 1)
    job = hash_job(aws, pool, "BCRYPT", [user("twoa", password_hash=two_a)])
    assert job["ImportedUsers"] == 1
    aws.faults({"hash_forms": "strict"})
    job = hash_job(aws, pool, "BCRYPT", [user("twoa2", password_hash=two_a)])
    assert job["FailedUsers"] == 1
    no_l = ph.make("PBKDF2_SHA256", PASSWORD).replace(",l=32", "")
    assert ph.valid_form("PBKDF2_SHA256", no_l) and not ph.valid_form("PBKDF2_SHA256", no_l, strict=True)
    aws.faults({"malformed_hash": "job_failed"})
    job = hash_job(aws, pool, "ARGON2ID", [user("fine", password_hash=ph.make("ARGON2ID", PASSWORD)),
                                            user("bad", password_hash="$argon2id$nope")])
    assert job["Status"] == "Failed"
    assert "not a valid ARGON2ID hash" in job["CompletionMessage"]


def test_forms():
    for algorithm in ph.ALGORITHMS:
        good = ph.make(algorithm, PASSWORD)
        assert ph.valid_form(algorithm, good), algorithm
        assert ph.verify(algorithm, good, PASSWORD)
        assert not ph.verify(algorithm, good, "wrong")
        for other in ph.ALGORITHMS:
            if other != algorithm:
                assert not ph.valid_form(other, good), (algorithm, other)
    assert not ph.valid_form("ARGON2ID", ph.make("ARGON2ID", PASSWORD).replace("v=19", "v=16"))
    assert not ph.valid_form("SCRYPT", "$scrypt$ln=4,r=8,p=1$!!!$abc")
    assert not ph.verify("SCRYPT", "garbage", PASSWORD)
