"""`make owner EMAIL=...` (`python -m deploy.create_owner --stack-name S --email E`): the first account
and its owner on a stack whose sign-up is closed (OpenRegistration=false, the default).

It runs on the operator's machine with the operator's AWS credentials: it reads the table's name from
the stack's outputs and writes the account and its owner there with wacast's own registration code.
The password is asked twice (or read from WACAST_OWNER_PASSWORD, for scripts).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable

import boto3

from wacast.bootstrap import build_registration
from wacast.domain.errors import WacastError
from wacast.settings import DeployableSettings

MIN_PASSWORD = 8


def table_of(stack_name: str, region: str) -> str:
    outputs = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack_name)["Stacks"][0]
    for output in outputs.get("Outputs", []):
        if output["OutputKey"] == "TableName":
            return str(output["OutputValue"])
    raise SystemExit(f"stack {stack_name} has no TableName output: is it a wacast stack, fully deployed?")


def ask_password(prompt: Callable[[str], str] = getpass.getpass) -> str:
    given = os.environ.get("WACAST_OWNER_PASSWORD")
    if given is not None:
        password = given
    else:
        password = prompt("Password for the owner (8+ characters): ")
        if prompt("Again: ") != password:
            raise SystemExit("the passwords differ")
    if len(password) < MIN_PASSWORD:
        raise SystemExit(f"the password needs {MIN_PASSWORD} characters or more")
    return password


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.create_owner", description=__doc__)
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--account-name", default="My business")
    args = parser.parse_args(argv)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    settings = DeployableSettings.load({"AWS_REGION": region, "WACAST_TABLE_NAME": table_of(args.stack_name, region)})
    password = ask_password()
    try:
        account, owner = build_registration(settings).create_owner(args.email, password, args.account_name)
    except WacastError as exc:
        raise SystemExit(f"could not create the owner: {exc}") from exc
    sys.stdout.write(f"created account {account.id} ({account.name}) with owner {owner.email}\n")
    sys.stdout.write("sign in with POST /api/auth/login; add a sender with POST /api/senders\n")


if __name__ == "__main__":
    main()
