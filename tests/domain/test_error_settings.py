"""A setting an error asks for is named by its concept below the CLI and by its flag in the CLI."""

from __future__ import annotations

import pytest

from signoff.cli.main import SETTING_FLAGS
from signoff.domain.errors import SETTING_WORDS, InputError, setting


def test_the_app_reads_the_concept_and_the_cli_its_flag():
    error = InputError(
        f"the dates read both ways: state the date format{setting('date_format', '%d/%m/%Y')}."
    )
    assert str(error) == "the dates read both ways: state the date format (date format: %d/%m/%Y)."
    assert error.reason == str(error)
    assert (
        error.text_naming(SETTING_FLAGS)
        == "the dates read both ways: state the date format (--date-format %d/%m/%Y)."
    )
    bare = InputError(f"set such rows aside{setting('quarantine_invalid')} to keep the rest", file="a.csv")
    assert str(bare) == "file a.csv: set such rows aside (set invalid rows aside) to keep the rest"
    assert (
        bare.text_naming(SETTING_FLAGS)
        == "file a.csv: set such rows aside (--quarantine-invalid) to keep the rest"
    )


def test_every_setting_has_a_flag_and_an_unknown_one_is_refused_when_written():
    assert set(SETTING_FLAGS) == set(SETTING_WORDS)
    with pytest.raises(KeyError):
        setting("no_such_setting")
