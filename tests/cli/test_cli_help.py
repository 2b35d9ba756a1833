"""Every command is documented: ``--help`` works for the tool and for each command."""

import subprocess
import sys

from signoff.cli.main import build_parser


def _commands(parser):
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():
            yield [name], sub
            if sub._subparsers is not None:
                for sub_names, subsub in _commands(sub):
                    yield [name, *sub_names], subsub


def test_every_command_has_help_text():
    parser = build_parser()
    for names, sub in _commands(parser):
        assert sub.format_help().strip(), names
        assert sub.description or sub.format_usage(), names


def test_help_runs_as_a_process():
    result = subprocess.run(
        [sys.executable, "-m", "signoff", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "prediction logs" in result.stdout
