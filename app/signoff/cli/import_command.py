"""``signoff import``: bring outside data in as evidence: model registries (MLflow, SageMaker, model cards).

Each source registers its own sub-command here (see ``registry_commands``).
"""

from __future__ import annotations

import argparse

from signoff.cli.registry_commands import register_import_sources


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "import",
        help="import model registries as evidence",
        description="Import outside data into Signoff as immutable, hashed evidence.",
    )
    sources = group.add_subparsers(dest="import_source", metavar="SOURCE", required=True)
    register_import_sources(sources)
