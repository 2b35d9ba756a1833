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
    parser.add_argument(
        "--screenshot-tour",
        metavar="DIR",
        help="screenshot every page (first start, registry, version, data, fairness, explain, drift, "
        "policy, review, report, audit, settings) at 1280x800 and 1920x1080 into DIR, then exit",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.launch_app is None:
        raise SignoffError("the desktop application is not available in this installation")
    if args.screenshot_tour:
        return args.launch_app(
            db_url=args.db, screenshot=None, page=None, screenshot_tour=args.screenshot_tour
        )
    return args.launch_app(db_url=args.db, screenshot=args.screenshot, page=args.page)
