"""``signoff import``: bring outside data in as evidence: prediction logs and model registries.

Each source registers its own sub-command here: ``log`` (see ``logs_command``), MLflow, SageMaker
and model cards (see ``registry_commands``), and external logs, ``source`` (see ``source_command``).
"""

from __future__ import annotations

import argparse

from signoff.cli.logs_command import register_import_log
from signoff.cli.registry_commands import register_import_sources
from signoff.cli.source_command import register_import_source


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "import",
        description="Import outside data into Signoff as immutable, hashed evidence.",
    )
    sources = group.add_subparsers(dest="import_source", metavar="SOURCE", required=True)
    register_import_log(sources)
    register_import_sources(sources)
    register_import_source(sources)
