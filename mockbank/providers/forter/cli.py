"""Forter's ``mockbank`` command: ``mockbank ca`` prints where the proxy's CA is, or its PEM."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def ca_command(args: argparse.Namespace) -> int:
    """Print the proxy CA certificate's path (creating the CA), or with ``--pem`` its PEM."""
    from mockbank.config import Config, from_environment
    from mockbank.proxy.ca import LocalCA

    config = Config.from_mapping(from_environment())
    base: Path = args.ca_state or config.state_dir
    ca = LocalCA.load_or_create(Path(base) / "ca")
    print(ca.pem if args.pem else ca.cert_path, end="" if args.pem else "\n")
    return 0


def cli(subparsers: Any) -> None:
    """``mockbank ca [--pem]``: where the proxy CA is (creating it), or its PEM."""
    parser = subparsers.add_parser(
        "ca", help="print the Forter proxy CA certificate's path (or --pem its PEM text)"
    )
    parser.add_argument("--pem", action="store_true", help="print the PEM instead of the path")
    parser.add_argument(
        "--state",
        dest="ca_state",
        type=Path,
        default=None,
        help="state directory holding ca/ (default: MOCKBANK_STATE, else the user data dir)",
    )
    parser.set_defaults(func=ca_command)
