#!/usr/bin/env python3
"""Create a user pool with N existing users in a running emulator; print the pool id.

    target/emulator-venv/bin/python tests/emulator/seed.py --endpoint URL --region R \
        --name NAME [--users N] [--custom-attr department[:Number]]... [--case-insensitive] \
        [--username-attributes email|phone_number] [--mfa OFF|ON|OPTIONAL] \
        [--auto-verify email|phone_number|both] [--access-key AKID] [--prefix user]

The pool is created through boto3 (CreateUserPool, like any client); the users are created
in-process by the emulator's control endpoint POST /_emulator/seed-users, which takes a
few seconds for 100,000 users (through the API it would take minutes). Users are named
<prefix>000000, <prefix>000001, ... with email <name>@example.com (verified), status
CONFIRMED. With --users-via-api the users are created with AdminCreateUser instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request

import boto3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--users", type=int, default=0)
    ap.add_argument("--custom-attr", action="append", default=[])
    ap.add_argument("--case-insensitive", action="store_true")
    ap.add_argument("--username-attributes", action="append", default=[],
                    choices=["email", "phone_number"])
    ap.add_argument("--mfa", default="OFF", choices=["OFF", "ON", "OPTIONAL"])
    ap.add_argument("--auto-verify", default="email", choices=["email", "phone_number", "both", "none"])
    ap.add_argument("--access-key", default="AKIASEED")
    ap.add_argument("--prefix", default="user")
    ap.add_argument("--users-via-api", action="store_true")
    a = ap.parse_args()

    idp = boto3.client("cognito-idp", endpoint_url=a.endpoint, region_name=a.region,
                       aws_access_key_id=a.access_key, aws_secret_access_key="emulator")
    kwargs: dict = {"PoolName": a.name,
                    "UsernameConfiguration": {"CaseSensitive": not a.case_insensitive}}
    auto = {"email": ["email"], "phone_number": ["phone_number"],
            "both": ["email", "phone_number"], "none": []}[a.auto_verify]
    if auto:
        kwargs["AutoVerifiedAttributes"] = auto
    if a.custom_attr:
        # NAME or NAME:TYPE (String, Number)
        kwargs["Schema"] = [{"Name": n, "AttributeDataType": t or "String", "Mutable": True}
                            for n, _, t in (spec.partition(":") for spec in a.custom_attr)]
    if a.username_attributes:
        kwargs["UsernameAttributes"] = a.username_attributes
    kwargs["MfaConfiguration"] = a.mfa
    pool_id = idp.create_user_pool(**kwargs)["UserPool"]["Id"]

    if a.users:
        attrs = {"email": "{u}@example.com", "email_verified": "true"}
        if a.users_via_api:
            for i in range(a.users):
                u = f"{a.prefix}{i:06d}"
                idp.admin_create_user(
                    UserPoolId=pool_id, Username=(f"{u}@example.com" if a.username_attributes else u),
                    MessageAction="SUPPRESS",
                    UserAttributes=[{"Name": k, "Value": v.replace("{u}", u)} for k, v in attrs.items()])
        else:
            body = json.dumps({"pool_id": pool_id, "region": a.region, "count": a.users,
                               "prefix": a.prefix, "attributes": attrs}).encode()
            req = urllib.request.Request(a.endpoint.rstrip("/") + "/_emulator/seed-users", data=body,
                                         method="POST", headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=600) as r:
                res = json.load(r)
            print(f"seeded {res['created']} users in {res['seconds']} s", file=sys.stderr)
    print(pool_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
