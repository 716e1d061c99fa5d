"""Test helper for password-hash migration (the Rust tests run it with the venv's python).

  hash_tool.py make ALGORITHM PASSWORD
      prints a hash of PASSWORD in the standard form, made by a standard library
  hash_tool.py sign-in --endpoint URL --region R --access-key K --pool ID USERNAME PASSWORD
      AdminInitiateAuth (ADMIN_USER_PASSWORD_AUTH) through a new app client; prints
      `ok` when Cognito returns tokens, `denied CODE` otherwise (exit 0 either way)
"""

from __future__ import annotations

import argparse
import sys

import password_hashes as ph


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make")
    make.add_argument("algorithm", choices=ph.ALGORITHMS)
    make.add_argument("password")
    sign = sub.add_parser("sign-in")
    for flag in ("--endpoint", "--region", "--access-key", "--pool"):
        sign.add_argument(flag, required=True)
    sign.add_argument("username")
    sign.add_argument("password")
    args = parser.parse_args()
    if args.command == "make":
        print(ph.make(args.algorithm, args.password))
        return 0
    import boto3
    from botocore.exceptions import ClientError
    idp = boto3.client("cognito-idp", endpoint_url=args.endpoint, region_name=args.region,
                       aws_access_key_id=args.access_key, aws_secret_access_key="emulator")
    client = idp.create_user_pool_client(
        UserPoolId=args.pool, ClientName="sign-in",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    try:
        out = idp.admin_initiate_auth(UserPoolId=args.pool, ClientId=client["ClientId"],
                                      AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": args.username, "PASSWORD": args.password})
    except ClientError as e:
        print("denied", e.response["Error"]["Code"])
        return 0
    print("ok" if "AccessToken" in out.get("AuthenticationResult", {}) else f"challenge {out.get('ChallengeName')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
