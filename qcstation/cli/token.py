"""`qcstation token create --config station.toml --role ROLE [--name NAME]`: an API token."""

from __future__ import annotations

import argparse

from ..station.settings import load_settings
from ..web.auth import ROLES, new_token, token_sha256


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="print a new API token (stored hashed)",
                            description="Print a new API token for scripts, PLC bridges and "
                            "dashboards; send it as 'Authorization: Bearer TOKEN'. Only its "
                            "hash is stored: keep the printed token, it is shown once.")
    create.add_argument("--config", required=True, help="the station's settings (station.toml)")
    create.add_argument("--role", required=True, choices=ROLES, help="the token's rights")
    create.add_argument("--name", default="api", help="what the token is for (default: api)")


def run(args: argparse.Namespace) -> int:
    from ..store import Store

    settings = load_settings(args.config)
    token = new_token()
    store = Store.open(settings.storage_url, settings.station.data_dir)
    try:
        store.add_token(args.name, args.role, token_sha256(token))
    finally:
        store.close()
    print(token)
    return 0
