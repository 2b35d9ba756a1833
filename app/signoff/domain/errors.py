"""Errors a user can cause, each with a message that says what was wrong and what to do.

Every layer raises these; the CLI turns them into a one-paragraph message and an exit code, the desktop
app into a dialog. Anything else escaping to the user is a bug.
"""

from __future__ import annotations

from collections.abc import Mapping

# A setting a message asks for ("state the date format"), by its concept. Below the front ends a message
# names it with ``setting(key, example)``; ``str(error)`` writes it in these words, and the CLI as its flag
# (``cli/common.SETTING_FLAGS``), so that no lower layer speaks of CLI flags.
SETTING_WORDS = {
    "prediction_map": "prediction map",
    "date_format": "date format",
    "quarantine_invalid": "set invalid rows aside",
    "positive_label": "favourable label",
    "model": "model name",
    "version": "model version",
    "user": "your account",
}
_MARK, _VALUE = "\x1f", "\x1e"


def setting(key: str, example: str = "") -> str:
    """A setting to name in a message, with an example value: rendered " (date format: %d/%m/%Y)" in
    words, " (--date-format %d/%m/%Y)" by the CLI."""
    if key not in SETTING_WORDS:
        raise KeyError(key)
    return f"{_MARK}{key}{_VALUE}{example}{_MARK}"


def render_settings(text: str, names: Mapping[str, str], *, separator: str = ": ") -> str:
    """``text`` with each ``setting`` written as ``names[key]`` and its example, in parentheses."""
    parts = text.split(_MARK)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(part)
            continue
        key, _, example = part.partition(_VALUE)
        name = names.get(key, SETTING_WORDS.get(key, key))
        out.append(f" ({name}{separator}{example})" if example else f" ({name})")
    return "".join(out)


class SignoffError(Exception):
    """Base of every error that is the user's to fix. ``exit_code`` is what the CLI returns."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.template = message  # with its settings marked (see ``setting``)
        self.message = render_settings(message, SETTING_WORDS)

    def __str__(self) -> str:
        return self.message

    def text_naming(self, names: Mapping[str, str]) -> str:
        """The message with its settings named as a front end names them (the CLI: its flags)."""
        return render_settings(self.template, names, separator=" ")


class InputError(SignoffError):
    """Bad input: a file, a row, a column or an argument that cannot be used as given.

    ``file``, ``row`` (1-based data row, header excluded) and ``column`` locate the problem when known;
    they are already part of ``message``, and kept separately so callers and tests can inspect them.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        where = []
        if file is not None:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        full = f"{', '.join(where)}: {message}" if where else message
        super().__init__(full)
        self.file = file
        self.row = row
        self.column = column
        self.reason = render_settings(message, SETTING_WORDS)


class NotFoundError(SignoffError):
    """Something the user named (a model, a version, a log, a review) does not exist."""


class ConflictError(SignoffError):
    """Someone else changed the same thing at the same moment; reload and try again."""

    exit_code = 3


class PermissionDenied(SignoffError):
    """The signed-in user may not do this (role, four-eyes rule, disabled account, wrong password)."""

    exit_code = 4


class IntegrityError(SignoffError):
    """Stored evidence or the audit chain does not match its hash: something was altered."""

    exit_code = 1


class ExternalServiceError(SignoffError):
    """A server Signoff talks to (an MLflow tracking server, ...) failed or answered nonsense."""


class Cancelled(SignoffError):
    """The user cancelled a long computation; nothing was stored."""

    exit_code = 130
