"""Registry commands: ``signoff import mlflow|sagemaker|model-card`` and ``signoff models history|show``.

Every import stores one snapshot; what changed since the previous import of the same source is
printed and kept as history. ``register_import_sources`` adds the import sources to the ``import``
group, ``register_model_commands`` adds ``history`` and ``show`` to the ``models`` group.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from signoff.cli.common import StatusLine, actor, add_json_flag, open_db, print_json
from signoff.cli.identity import SIGNED_IN
from signoff.domain.audit import format_utc
from signoff.domain.registry_history import RegistryImportResult

# The services are imported inside each handler: requests and the importers would cost every other
# command most of a second of start-up.


def register_import_sources(sources: argparse._SubParsersAction) -> None:
    mlflow = sources.add_parser(
        "mlflow",
        parents=[SIGNED_IN],
        help="read an MLflow tracking server's model registry over its REST API",
        description="Read registered models, versions, aliases, tags, stages, source runs (params, metrics, "
        "datasets, code version), MLflow 3 logged models and model files (stored by SHA-256, never run). "
        "Credentials come from MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD; "
        "TLS follows MLFLOW_TRACKING_SERVER_CERT_PATH / MLFLOW_TRACKING_INSECURE_TLS.",
    )
    mlflow.add_argument(
        "--tracking-uri", required=True, metavar="URL", help="e.g. http://mlflow.internal:5000"
    )
    mlflow.add_argument(
        "--model", action="append", metavar="NAME", help="import only this registered model (repeatable)"
    )
    add_json_flag(mlflow)
    mlflow.set_defaults(handler=run_mlflow)

    sagemaker = sources.add_parser(
        "sagemaker",
        parents=[SIGNED_IN],
        help="read a SageMaker describe-model-package / list-model-packages JSON export",
        description="Read model packages (approval status, creator, metrics pointers, an embedded model card) "
        "from the JSON of `aws sagemaker describe-model-package` (one or a list) or of list-model-packages "
        "with the descriptions beside it.",
    )
    sagemaker.add_argument("file", metavar="FILE", type=Path, help="the JSON export")
    sagemaker.add_argument(
        "--model-card",
        metavar="CARD",
        type=Path,
        help="a separate SageMaker model card JSON (describe-model-card)",
    )
    add_json_flag(sagemaker)
    sagemaker.set_defaults(handler=run_sagemaker)

    card = sources.add_parser(
        "model-card",
        parents=[SIGNED_IN],
        help="attach a Hugging Face model card (README.md) to a model version",
        description="Read a model card's YAML front matter (model-index results) and its sections (intended "
        "uses, limitations, training data, evaluation) and attach them to a model version.",
    )
    card.add_argument("file", metavar="FILE", type=Path, help="the model card README.md")
    card.add_argument("--model", metavar="NAME", help="model name (default: model-index name in the card)")
    card.add_argument("--version", metavar="V", help="model version (default: model_version in the card)")
    add_json_flag(card)
    card.set_defaults(handler=run_model_card)


def register_model_commands(commands: argparse._SubParsersAction) -> None:
    history = commands.add_parser(
        "history",
        help="what changed in a registered model between registry imports",
        description="Aliases moved, versions added or deleted, stages, tags, descriptions and run metrics "
        "changed, each seen between two imports (registries keep no history of their own).",
    )
    history.add_argument("name", metavar="NAME", help="registered model name")
    add_json_flag(history)
    history.set_defaults(handler=run_history)

    show = commands.add_parser(
        "show",
        help="one model version with its lineage and evidence hashes",
        description="A model version with its latest registry record per source: the run, datasets with "
        "digests, code version, logged model, model file hashes, approval status and model card.",
    )
    show.add_argument("name", metavar="NAME", help="registered model name")
    show.add_argument("version", metavar="VERSION", help="model version")
    add_json_flag(show)
    show.set_defaults(handler=run_show)


def run_history(args: argparse.Namespace) -> int:
    from signoff.services.registry_import import model_history

    with open_db(args) as db:
        changes, snapshots = model_history(db, args.name)
    if args.json:
        print_json(
            {
                "name": args.name,
                "changes": [c.to_dict() for c in changes],
                "snapshots": [s.to_dict() for s in snapshots],
            }
        )
        return 0
    print(f"{args.name}: seen by {len(snapshots)} imports, {len(changes)} changes")
    if not changes:
        print("no changes recorded between imports")
    for change in changes:
        print(
            f"  {change.summary}  (seen between {format_utc(change.seen_after)} and {format_utc(change.seen_by)})"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    from signoff.services.registry_import import model_version_details

    with open_db(args) as db:
        details = model_version_details(db, args.name, args.version)
    if args.json:
        print_json(details)
        return 0
    version = details["model_version"]
    print(f"{version['name']} v{version['version']} ({version['source']}): {version['description']}")
    lineage = details["lineage"]
    if lineage:
        code = lineage["code_version"]
        print(f"  run {lineage['run_id']} in {lineage['experiment'] or 'an unnamed experiment'}")
        print(f"  code {code['git_commit'] or '(no git commit recorded)'} {code['source_name']}")
        for dataset in lineage["datasets"]:
            print(
                f"  dataset {dataset['name']} ({dataset['context'] or 'no context'}) digest {dataset['digest']}"
            )
    for path, sha256 in sorted(details["artifacts"].items()):
        print(f"  file {path} sha256 {sha256}")
    return 0


def _report(result: RegistryImportResult, as_json: bool) -> int:
    if as_json:
        print_json(result.to_dict())
        return 0
    print(
        f"imported snapshot {result.snapshot_id} of {result.source_uri}: {result.models} models, "
        f"{result.versions} versions, {result.artifacts_stored} model files stored"
    )
    if result.previous_snapshot_id is None:
        print("first import of this source: history starts here")
    elif not result.changes:
        print(f"no changes since snapshot {result.previous_snapshot_id}")
    else:
        print(f"{len(result.changes)} changes since snapshot {result.previous_snapshot_id}:")
        for change in result.changes:
            print(f"  {change.summary}")
    return 0


def run_mlflow(args: argparse.Namespace) -> int:
    from signoff.services.registry_import import import_mlflow

    with StatusLine() as line, open_db(args) as db:

        def progress(done: int, total: int, what: str) -> None:
            line(done / total if total else 0.0, f"reading {what}" + (f" {done}/{total}" if total else ""))

        result = import_mlflow(db, args.tracking_uri, models=args.model, progress=progress, actor=actor(args))
    return _report(result, args.json)


def run_sagemaker(args: argparse.Namespace) -> int:
    from signoff.services.registry_import import import_sagemaker

    with open_db(args) as db:
        result = import_sagemaker(db, args.file, model_card=args.model_card, actor=actor(args))
    return _report(result, args.json)


def run_model_card(args: argparse.Namespace) -> int:
    from signoff.services.registry_import import import_model_card

    with open_db(args) as db:
        result = import_model_card(db, args.file, model=args.model, version=args.version, actor=actor(args))
    return _report(result, args.json)
