"""The ``signoff`` executable: the command-line tool, with ``signoff app`` starting the desktop UI.

This module sits above both front ends (``cli`` and ``ui`` may not import each other), so it is the
one place that hands the CLI a way to start the desktop application.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

# A command is a short process whose allocations are mostly long-lived: modules, classes, the ORM's
# mappings. At the collector's default pace (a young pass every 700 allocations, an older one every
# tenth) it rescans them again and again: 0.13 s of a first analysis, 0.04 s of a stored one. Young
# passes every 5,000 allocations and older ones rarely, as mypy does; cycles are still collected.
# The desktop application keeps the default pace (``launch_app``).
COMMAND_GC_THRESHOLDS = (5000, 100, 10)
DEFAULT_GC_THRESHOLDS = gc.get_threshold()


def launch_app(
    *, db_url: str | None, screenshot: str | None, page: str | None, screenshot_tour: str | None = None
) -> int:
    gc.set_threshold(*DEFAULT_GC_THRESHOLDS)  # a long-lived process: the default pace
    # Imported only when asked for, so that every other command starts without loading Qt.
    from signoff.ui.application import run_app

    return run_app(db_url=db_url, screenshot=screenshot, page=page, screenshot_tour=screenshot_tour)


def main(argv: Sequence[str] | None = None) -> int:
    previous = gc.get_threshold()
    gc.set_threshold(*COMMAND_GC_THRESHOLDS)
    try:
        from signoff.cli.main import main as cli_main

        return cli_main(argv, launch_app=launch_app)
    except BrokenPipeError:
        # The reader left early (``signoff audit list | head``): no error of ours, and no traceback.
        # Python's own advice: point stdout at devnull so that flushing it at exit fails no more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # as a process ended by SIGPIPE reports it
    finally:
        gc.set_threshold(*previous)  # for a caller that goes on (tests, scripts)


if __name__ == "__main__":
    sys.exit(main())
