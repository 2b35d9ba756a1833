"""``signoff models``: register a model version by hand and list the registered ones."""

from __future__ import annotations

import argparse

from signoff.cli import explain_command
from signoff.cli.common import actor, add_json_flag, open_db, print_json, print_table
from signoff.cli.identity import SIGNED_IN
from signoff.cli.registry_commands import register_model_commands
from signoff.domain.audit import format_utc


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "models",
        description="Model versions: the unit that prediction logs, analyses and reviews belong to.",
    )
    commands = group.add_subparsers(dest="models_command", metavar="COMMAND", required=True)

    add = commands.add_parser(
        "add",
        parents=[SIGNED_IN],
        help="register a model version by hand",
        description="Register a model version that is not imported from a registry. Recorded in the "
        "audit log. Fails if the same name and version exist.",
    )
    add.add_argument("name", metavar="NAME", help="registered model name")
    add.add_argument("version", metavar="VERSION", help="version string, e.g. 3 or 2024-06-01")
    add.add_argument("--description", default="", help="what this version is")
    add_json_flag(add)
    add.set_defaults(handler=run_add)

    listing = commands.add_parser(
        "list",
        help="list registered model versions",
        description="List every registered model version (optionally of one model), by name.",
    )
    listing.add_argument("--name", help="only versions of this model")
    add_json_flag(listing)
    listing.set_defaults(handler=run_list)
    register_model_commands(commands)

    explain_command.register_model_commands(commands)


def run_add(args: argparse.Namespace) -> int:
    from signoff.services.models import add_model_version

    with open_db(args) as db:
        model_version = add_model_version(
            db, name=args.name, version=args.version, description=args.description, actor=actor(args)
        )
    if args.json:
        print_json(model_version.to_dict())
    else:
        print(f"added model {model_version.name} version {model_version.version} (id {model_version.id})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from signoff.services.models import list_model_versions
    from signoff.services.registry_import import models_without_versions

    with open_db(args) as db:
        versions = list_model_versions(db, name=args.name)
        versionless = models_without_versions(db, name=args.name)
    if args.json:
        print_json([v.to_dict() for v in versions] + [_versionless_entry(m) for m in versionless])
        return 0
    if not versions and not versionless:
        print("no model versions registered; add one with `signoff models add NAME VERSION`")
        return 0
    rows = [
        [
            str(v.id),
            v.name,
            v.version,
            v.source,
            format_utc(v.created_at) if v.created_at else "",
            v.description,
        ]
        for v in versions
    ]
    rows += [
        [
            "",
            m.name,
            "(no versions yet)",
            m.snapshot.source_kind,
            format_utc(m.snapshot.taken_at),
            _with_tags(m.description, m.tags),
        ]
        for m in versionless
    ]
    print_table(rows, ["ID", "NAME", "VERSION", "SOURCE", "ADDED (UTC)", "DESCRIPTION"])
    return 0


def _versionless_entry(model) -> dict:
    """A registered model with no version, shaped like a version entry (``id`` and ``version`` null)."""
    entry = model.to_dict()
    return {
        "id": None,
        "version": None,
        "created_at": None,
        "attributes": {},
        **entry,
    }


def _with_tags(description: str, tags) -> str:
    shown = ", ".join(f"{key}={value}" for key, value in sorted(tags.items()))
    return f"{description} [tags: {shown}]" if shown else description
