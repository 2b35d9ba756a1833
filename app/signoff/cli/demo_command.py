"""``signoff demo``: build the demo workspace (UCI Adult, two model versions, logs, analyses, a policy
verdict) into the selected database, the same workspace the desktop app offers on first start."""

from __future__ import annotations

import argparse

from signoff.cli.common import StatusLine, actor, add_json_flag, open_db, print_json
from signoff.cli.identity import SIGNED_IN


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        parents=[SIGNED_IN],
        description="Train two models on the UCI Adult income data shipped with Signoff, register them as "
        "'Adult income (demo)' versions 1 and 2, import a reference and a production prediction log for "
        "each, and run validation, fairness, performance, monitoring, drift, SHAP and the "
        "lending-four-fifths policy. Offline; takes seconds. Refused (exit 3) if the demo is already there.",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from signoff.services.demo import build_demo_workspace

    with StatusLine() as progress, open_db(args) as db:
        summary = build_demo_workspace(db, actor=actor(args), progress=progress)
    if args.json:
        print_json(summary.to_dict())
        return 0
    print(f"built the demo workspace in {summary.seconds:.1f} s: model {summary.model!r}")
    for version in summary.versions:
        logs = ", ".join(f"{log.role} log {log.id} ({log.rows:,} rows)" for log in version.logs)
        kinds = sorted({kind for kind, _ in version.analyses})
        print(
            f"  version {version.version} ({version.algorithm}): {logs}; analyses: {', '.join(kinds)}; "
            f"policy {summary.policy}: {version.policy_status}"
        )
    print("open it with `signoff app`, or look at it with `signoff models list` and `signoff logs list`")
    return 0
