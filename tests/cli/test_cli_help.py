"""Every command is documented: ``--help`` works for the tool and for each command."""

from signoff.cli.main import build_parser


def _commands(parser):
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():
            yield [name], sub
            if sub._subparsers is not None:
                for sub_names, subsub in _commands(sub):
                    yield [name, *sub_names], subsub


def test_every_command_has_a_description():
    parser = build_parser()
    commands = list(_commands(parser))
    assert commands
    for names, sub in commands:
        if sub._subparsers is None:
            assert sub.description, f"signoff {' '.join(names)} has no description"


def test_help_runs_as_a_process(run_cli):
    result = run_cli("--help")
    assert result.returncode == 0
    assert "prediction logs" in result.stdout


def test_a_user_error_is_a_message_and_exit_2_not_a_traceback(run_cli):
    result = run_cli("no-such-command")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_help_texts_print_what_they_mean_and_every_out_has_o(capsys):
    """argparse %-formats argument help but prints descriptions as written: "95%%" would show doubled."""
    parser = build_parser()
    for names, sub in [([], parser), *_commands(parser)]:
        text = sub.format_help()
        assert "%%" not in text, f"signoff {' '.join(names)} --help prints '%%'"
        for action in sub._actions:
            if "--out" in action.option_strings:
                assert "-o" in action.option_strings, f"signoff {' '.join(names)}: --out without -o"
    fairness = dict((tuple(n), s) for n, s in _commands(parser))[("analyze", "fairness")]
    assert "with 95% bootstrap" in " ".join(fairness.format_help().split())
