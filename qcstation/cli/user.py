"""`qcstation user add --config station.toml --role ROLE NAME`: a user of the web view."""

from __future__ import annotations

import argparse
import getpass
import sys

from ..errors import QCError
from ..station.settings import load_settings
from ..web.auth import MIN_PASSWORD, ROLES, hash_password, usable_user_name


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="add a user (the password is read from stdin, or asked "
                         "twice at a terminal)",
                         description="Add a user of the web view. The password is read from "
                         "stdin, or asked twice when stdin is a terminal.")
    add.add_argument("--config", required=True, help="the station's settings (station.toml)")
    add.add_argument("--role", required=True, choices=ROLES,
                     help="inspector (bench), supervisor (review, reports) or admin (settings)")
    add.add_argument("name", help="the user name to sign in with")


def read_password() -> str:
    """The new password: asked twice at a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise QCError("the two passwords differ; run the command again")
        password = first
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise QCError(f"the password is shorter than {MIN_PASSWORD} characters; choose a "
                      "longer one")
    return password


def run(args: argparse.Namespace) -> int:
    from ..store import Store

    settings = load_settings(args.config)
    if not usable_user_name(args.name):
        raise QCError(f"user name {args.name!r} is not usable; give 1 to 100 characters "
                      "without spaces")
    password = read_password()
    store = Store.open(settings.storage_url, settings.station.data_dir)
    try:
        if store.user(args.name) is not None:
            raise QCError(f"user {args.name!r} exists already; choose another name")
        store.add_user(args.name, args.role, hash_password(password))
    finally:
        store.close()
    print(f"added {args.role} {args.name}")
    return 0
