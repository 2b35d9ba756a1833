"""``signoff explain`` and ``signoff models attach|trust``: SHAP evidence for a model version.

``explain`` computes (or returns the stored) SHAP explanation of a model version on one of its logs.
``models attach`` stores a model file for a version that no registry import brought. ``models trust``
shows the advisory scan of a pickle model file and records the user's decision to let it be loaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from signoff.cli.common import StatusLine, actor, add_json_flag, open_db, print_json
from signoff.cli.identity import SIGNED_IN, SIGNING
from signoff.cli.passwords import PasswordReader
from signoff.domain.explanation import Explanation, describe_group

if TYPE_CHECKING:
    from signoff.services.explain import ExplanationRun

# The services are imported inside the handlers: they bring numpy, shap and scikit-learn, which take
# seconds to import, and every other `signoff` command builds this parser too.

CONFIRM_WORD = "trust"


def register(subparsers: argparse._SubParsersAction) -> None:
    explain = subparsers.add_parser(
        "explain",
        parents=[SIGNED_IN],
        description="Explain what drives the model: mean |SHAP| per feature with bootstrap intervals, "
        "direction, importance per sensitive group and intersection with the largest differences, and "
        "single rows. The model file is loaded only in a safe format or after `signoff models trust`. "
        "The result is stored as an analysis run; asking again returns it.",
    )
    explain.add_argument("name", metavar="NAME", help="registered model name")
    explain.add_argument("version", metavar="VERSION", help="model version")
    explain.add_argument("--log", type=int, required=True, metavar="ID", help="the prediction log to explain")
    explain.add_argument(
        "--reference", type=int, metavar="ID", help="background log (default: the version's reference log)"
    )
    explain.add_argument(
        "--sample", type=int, metavar="N", help="rows to explain (default: as many as fit in about 30 s)"
    )
    explain.add_argument(
        "--row",
        action="append",
        default=[],
        metavar="ROW_ID",
        help="explain this row on its own (repeatable)",
    )
    explain.add_argument(
        "--seed", type=int, default=0, help="random seed for sampling and bootstrap (default 0)"
    )
    explain.add_argument("--target-class", metavar="CLASS", help="class to explain for a multi-class model")
    explain.add_argument(
        "--from",
        dest="source",
        choices=["auto", "model", "log"],
        default="auto",
        help="compute SHAP from the stored model file, or summarise the SHAP columns imported with the log "
        "(--shap); auto: the model file when the version has one (default)",
    )
    add_json_flag(explain)
    explain.set_defaults(handler=run_explain)


def register_model_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``attach`` and ``trust`` to the ``signoff models`` group."""
    attach = commands.add_parser(
        "attach",
        parents=[SIGNED_IN],
        help="store a model file for a model version",
        description="Store a model file (skops, XGBoost .json/.ubj, LightGBM .txt, or a pickle) as "
        "evidence for a model version that no registry import brought. Nothing is loaded. Recorded in "
        "the audit log.",
    )
    attach.add_argument("name", metavar="NAME")
    attach.add_argument("version", metavar="VERSION")
    attach.add_argument("file", metavar="FILE", type=Path)
    add_json_flag(attach)
    attach.set_defaults(handler=run_attach)

    trust = commands.add_parser(
        "trust",
        parents=[SIGNING],
        help="review a pickle model file's scan and trust it for explanation",
        description="Pickle model files run code when loaded. This shows picklescan's advisory listing "
        "of what the file imports and asks you to confirm (type 'trust'), then for your password: the "
        "decision is a signed act of an approver or administrator, recorded in the audit log with the "
        "file's SHA-256 and your name.",
    )
    trust.add_argument("name", metavar="NAME")
    trust.add_argument("version", metavar="VERSION")
    trust.add_argument(
        "--yes", action="store_true", help="do not ask (for automation): trust after showing the scan"
    )
    add_json_flag(trust)
    trust.set_defaults(handler=run_trust)


def run_attach(args: argparse.Namespace) -> int:
    from signoff.services.model_artifacts import attach_model_file

    with open_db(args) as db:
        attached = attach_model_file(
            db, name=args.name, version=args.version, path=args.file, actor=actor(args)
        )
    if args.json:
        print_json(attached)
    else:
        print(f"attached {attached['path']} (sha256 {attached['sha256']}) to {args.name} v{args.version}")
    return 0


def run_trust(args: argparse.Namespace) -> int:
    from signoff.services.trust import scan_model_artifact, trust_model_artifact

    with open_db(args) as db:
        review = scan_model_artifact(db, name=args.name, version=args.version)
        if review.scan is None:
            message = f"{review.file_name} is a {review.format.value} file: it loads without running code; nothing to trust"
            if args.json:
                print_json(review.to_dict())
            else:
                print(message)
            return 0
        if review.already_trusted:
            print_json(review.to_dict()) if args.json else print(
                f"{review.file_name} ({review.sha256}) is already trusted"
            )
            return 0
        out = sys.stderr if args.json else sys.stdout
        for line in review.scan.summary_lines():
            print(line, file=out)
        if not args.yes:
            print(
                f"Type '{CONFIRM_WORD}' to let Signoff load this file for explanation: ",
                end="",
                file=out,
                flush=True,
            )
            answer = sys.stdin.readline().strip()
            if answer != CONFIRM_WORD:
                print("not trusted; nothing was recorded", file=out)
                return 1
        password = PasswordReader(args.password_stdin).read(
            f"password for {args.signer} (trusting this file): "
        )
        decision = trust_model_artifact(
            db, name=args.name, version=args.version, reviewed=review, username=args.signer, password=password
        )
    if args.json:
        print_json(decision.to_payload())
    else:
        print(
            f"trusted {decision.file_name} (sha256 {decision.artifact_sha256}), decided by {decision.decided_by}"
        )
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from signoff.services.explain import explain_model_version

    with StatusLine(enabled=not args.json) as line, open_db(args) as db:
        result = explain_model_version(
            db,
            name=args.name,
            version=args.version,
            log_id=args.log,
            reference_log_id=args.reference,
            sample_size=args.sample,
            rows=args.row,
            seed=args.seed,
            target_class=args.target_class,
            source=args.source,
            actor=actor(args),
            progress=lambda fraction: line(fraction, "explaining"),
        )
    if args.json:
        print_json(result.to_dict())
    else:
        print_explanation(result)
    return 0


def print_explanation(result: ExplanationRun) -> None:
    explanation: Explanation = result.explanation
    s = explanation.settings
    stored = "returned the stored" if result.reused else "stored as"
    print(f"SHAP explanation, {stored} analysis run {result.run.id}")
    print(f"  explainer: {s.method}; output space: {s.output_space}")
    print(
        f"  rows: {s.sample_size:,} of {s.rows_available:,} (seed {s.seed}); background: "
        f"{s.background_size} rows, {s.background_source}"
    )
    if s.estimate is not None:
        took = sum(s.timings.values())
        print(
            f"  time: estimated {s.estimate.seconds:.2g} s before running ({s.estimate.formula}); took {took:.2g} s"
        )
    add = explanation.additivity
    if add.max_error is not None:
        verdict = {True: "OK", False: "EXCEEDED", None: "not bounded"}[add.ok]
        print(
            f"  additivity: max error {add.max_error:.2g} over {add.rows_checked:,} rows ({verdict}; {add.basis})"
        )
    print(
        f"Global importance: mean |SHAP| with {s.confidence:.0%} bootstrap interval ({s.bootstrap_resamples} resamples)"
    )
    trends = {d.feature: d.trend for d in explanation.directions}
    for item in explanation.global_importance:
        print(
            f"  {item.feature:<24} {item.mean_abs_shap:10.4g}  [{item.ci_low:.4g}, {item.ci_high:.4g}]  "
            f"{trends.get(item.feature, '')}"
        )
    clear = explanation.gap_sentences(limit=5)
    if explanation.gaps:
        print("Largest differences between groups:")
        for sentence in clear or [
            "No feature's importance differs clearly between groups (all intervals include zero)."
        ]:
            print(f"  {sentence}")
    small = [describe_group(g.attribute, g.group) for g in explanation.segments if g.insufficient]
    if small:
        print(f"  Too few rows to compare (< {s.min_group_size}): {', '.join(small)}")
    for local in explanation.local:
        output = "" if local.model_output is None else f" -> output {local.model_output:.6g}"
        print(f"Row {local.row_id}: base value {local.base_value:.6g}{output}")
        for c in local.contributions:
            value = "missing" if c.value is None else f"{c.value:.6g}"
            print(f"  {c.feature:<24} = {value:<12} {c.shap:+.4g}")
