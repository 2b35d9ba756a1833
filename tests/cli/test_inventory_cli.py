"""`signoff inventory ...` as a user runs it: the real executable once, then the same entry point
in-process (``main(argv)``, real argument parsing and exit codes) to keep the many cases quick."""

from __future__ import annotations

import io
import json

import pytest

from review_world import analyst_token
from signoff.cli.main import main
from signoff.domain.users import Role
from signoff.services import users
from signoff.services.models import add_model_version
from signoff.storage import open_database


def _cli(capsys, db: str, *args: str, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--db", db, "inventory", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def inventory_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'signoff.db'}"
    with open_database(url) as db:
        add_model_version(db, name="hiring", version="1")
        add_model_version(db, name="hiring", version="2")
        add_model_version(db, name="churn", version="7")
        admin = users.add_user(
            db,
            None,
            username="root",
            full_name="Root",
            email="r@x.org",
            roles=frozenset({Role.ADMIN}),
            password="root password 0",
        )
        users.add_user(
            db,
            admin,
            username="olga",
            full_name="Olga Łukasz",
            email="o@x.org",
            roles=frozenset({Role.APPROVER}),
            password="olga password 55",
        )
    monkeypatch.setenv("SIGNOFF_TOKEN", analyst_token(url))  # changes are made by a signed-in account
    return url


def test_set_show_list_and_export(signed_in_cli, capsys, inventory_db, tmp_path):
    done = signed_in_cli(  # the installed executable, once
        "inventory", "set", "hiring", "owner=olga", "stage=production", "nyc_ll144_aedt=yes",
        "eu_ai_act_risk=high", "eu_ai_act_annex_iii=employment", db=inventory_db,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "owner: olga" in done.stdout and "nyc_ll144_aedt: yes" in done.stdout
    code, _, err = _cli(
        capsys, inventory_db, "set", "hiring", "--version", "2", "limitations=one office only"
    )
    assert code == 0, err
    shown = json.loads(_cli(capsys, inventory_db, "show", "hiring", "--json")[1])
    assert shown["owner"] == "olga" and shown["values"]["nyc_ll144_aedt"] is True
    assert [v["own_values"] for v in shown["version_records"]] == [{}, {"limitations": "one office only"}]
    assert shown["version_records"][1]["values"]["owner"] == "olga"
    code, out, err = _cli(capsys, inventory_db, "assess", "hiring", "materiality=high", "complexity=low",
                          "reliance=high")  # fmt: skip
    assert code == 0 and "risk tier: 2" in out, err  # 3 x 1 x 3 = 9
    listed = json.loads(_cli(capsys, inventory_db, "list", "--json")[1])
    assert [(e["model"], e["tier"], e["owner"], e["due"]) for e in listed] == [
        ("churn", None, None, "not-scheduled"),
        ("hiring", 2, "olga", "not-scheduled"),
    ]
    assert json.loads(_cli(capsys, inventory_db, "list", "--overdue", "--json")[1]) == []
    code, _, err = _cli(capsys, inventory_db, "export", "--format", "csv", "--out", str(tmp_path / "i.csv"))
    assert code == 0, err
    assert (tmp_path / "i.csv").read_text(encoding="utf-8").count("\n") == 3
    fields = json.loads(_cli(capsys, inventory_db, "fields", "--json")[1])
    assert {"owner", "backup_owner", "business_unit", "purpose", "intended_use", "out_of_scope",
            "limitations", "stage", "vendor"} <= {f["name"] for f in fields}  # fmt: skip


def test_mistakes_exit_2_with_a_message_and_override_needs_the_approver(capsys, monkeypatch, inventory_db):
    cases = [
        (("set", "hiring", "colour=red"), "unknown inventory field 'colour'"),
        (("set", "hiring", "stage=live"), "choose one of development, validation, production, retired"),
        (("set", "hiring", "owner=zed"), "there is no account 'zed'"),
        (("set", "nope", "purpose=x"), "no model named 'nope'"),
        (("set", "hiring", "purpose"), "is not FIELD=VALUE"),
        (("assess", "hiring", "materiality=high"), "missing: complexity, reliance"),
        (("list", "--due-within", "-1"), "zero or more"),
    ]
    for args, message in cases:
        code, _, err = _cli(capsys, inventory_db, *args)
        assert code == 2 and message in err, (args, err)
    _cli(capsys, inventory_db, "assess", "hiring", "materiality=low", "complexity=low", "reliance=low")
    override = ("override", "hiring", "--tier", "1", "--justification", "public scrutiny", "--password-stdin")
    code, _, err = _cli(
        capsys, inventory_db, *override, "--user", "root", stdin="root password 0\n", monkeypatch=monkeypatch
    )
    assert code == 4 and "approver" in err, err
    code, out, err = _cli(
        capsys, inventory_db, *override, "--user", "olga", "--json", stdin="olga password 55\n",
        monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["tier"], shown["record"]["risk"]["override"]["by"]) == (1, "olga")


def test_the_calendar_lists_the_open_conditions_of_an_approval(capsys, world_db, world_db_url, world):
    from datetime import UTC, datetime, timedelta

    from review_world import PASSWORDS
    from signoff.services import reviews

    today = datetime.now(UTC).date()
    soon, later = today + timedelta(days=10), today + timedelta(days=200)
    opened = reviews.open_review(world_db, "alice", model_version_id=world.model_version_id)
    reviews.submit(world_db, "alice", opened.review.id)
    reviews.sign(world_db, opened.review.id, username="bob", password=PASSWORDS["bob"], meaning="reviewed")
    reviews.sign(
        world_db,
        opened.review.id,
        username="carol",
        password=PASSWORDS["carol"],
        meaning="approved_with_conditions",
        justification="pilot only",
        conditions=[f"monthly drift check|owner=bob|due={soon}", f"retrain|owner=alice|due={later}"],
    )
    code, out, err = _cli(capsys, world_db_url, "list", "--due-within", "30")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == [
        "MODEL",
        "CURRENT",
        "OWNER",
        "STAGE",
        "TIER",
        "NEXT",
        "DUE",
        "DUE",
        "OPEN",
        "CONDITIONS",
    ]
    assert lines[1].split() == ["credit", "4", "not-scheduled", "2"]  # no tier: no revalidation date
    start = lines.index("conditions of approvals, not yet closed:")
    assert lines[start + 1].split() == ["OWNER", "MODEL", "VERSION", "CONDITION", "DUE", "STATE", "ID"]
    assert lines[start + 2].split()[:6] == ["bob", "credit", "4", "monthly", "drift", "check"]
    assert lines[start + 2].split()[6:8] == [soon.isoformat(), "due-soon"] and len(lines) == start + 3
    code, out, err = _cli(capsys, world_db_url, "list", "--json")
    (entry,) = json.loads(out)
    assert entry["open_conditions"] == 2
    assert [(c["condition"], c["owner"], c["due"], c["due_state"]) for c in entry["conditions"]] == [
        ("monthly drift check", "bob", soon.isoformat(), "due-soon"),
        ("retrain", "alice", later.isoformat(), "scheduled"),
    ]
    code, out, err = _cli(capsys, world_db_url, "list", "--overdue")
    assert (code, out) == (0, "no models match\n")
    code, out, err = _cli(capsys, world_db_url, "show", "credit")
    assert (
        f"open condition {entry['conditions'][1]['condition_id']} of v4: retrain (owner alice), due {later} (scheduled)"
        in out
    )
