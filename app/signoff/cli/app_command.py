"""``signoff app``: start the desktop application."""

from __future__ import annotations

import argparse

from signoff.domain.errors import SignoffError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "app",
        description="Start the desktop application on the selected database.",
    )
    parser.add_argument("--screenshot", metavar="FILE", help="render the main window to a PNG and exit")
    parser.add_argument("--page", metavar="NAME", help="with --screenshot: the page to show")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.launch_app is None:
        raise SignoffError("the desktop application is not available in this installation")
    return args.launch_app(db_url=args.db, screenshot=args.screenshot, page=args.page)
