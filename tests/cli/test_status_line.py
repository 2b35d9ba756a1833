"""The CLI's one progress line: drawn on a real terminal (a pseudo-terminal here), silent otherwise."""

from __future__ import annotations

import io
import os

import pytest

from signoff.cli.common import StatusLine


def _read_all(fd: int) -> str:
    """Everything written to the pseudo-terminal, read after its writing end was closed (then a
    read returns what is buffered and ends with EIO), so no write can still be on its way."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_on_a_terminal_one_line_is_redrawn_and_ended_even_on_an_error():
    main, secondary = os.openpty()
    with (
        open(secondary, "w", encoding="utf-8", closefd=True) as terminal,
        pytest.raises(RuntimeError),
        StatusLine(stream=terminal) as line,
    ):
        line(0.25, "reading logs")
        line(0.5, "drawing charts")
        raise RuntimeError("stopped half way")
    output = _read_all(main)
    os.close(main)
    # Each redraw returns to the line's start and clears what is left of the longer earlier text.
    assert output.replace("\r\n", "\n") == ("\r[ 25.0%] reading logs\x1b[K\r[ 50.0%] drawing charts\x1b[K\n")


def test_silent_when_not_a_terminal_or_switched_off():
    piped = io.StringIO()
    with StatusLine(stream=piped) as line:
        line(0.5, "half")
    assert piped.getvalue() == ""
    main, secondary = os.openpty()
    with open(secondary, "w", encoding="utf-8", closefd=True) as terminal:
        with StatusLine(stream=terminal, enabled=False) as line:  # --json: stderr stays clean
            line(0.5, "half")
        terminal.write("end")
        terminal.flush()
    assert _read_all(main) == "end"
    os.close(main)
