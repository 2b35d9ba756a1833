"""The ``signoff`` executable: the command-line tool, with ``signoff app`` starting the desktop UI.

This module sits above both front ends (``cli`` and ``ui`` may not import each other), so it is the
one place that hands the CLI a way to start the desktop application.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def launch_app(
    *, db_url: str | None, screenshot: str | None, page: str | None, screenshot_tour: str | None = None
) -> int:
    # Imported only when asked for, so that every other command starts without loading Qt.
    from signoff.ui.application import run_app

    return run_app(db_url=db_url, screenshot=screenshot, page=page, screenshot_tour=screenshot_tour)


def main(argv: Sequence[str] | None = None) -> int:
    from signoff.cli.main import main as cli_main

    return cli_main(argv, launch_app=launch_app)


if __name__ == "__main__":
    sys.exit(main())
