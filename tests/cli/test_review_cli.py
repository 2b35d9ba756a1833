"""The sign-off commands run as real ``signoff`` processes: users, reviews, signatures, verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from review_world import PASSWORDS

STDIN = "--password-stdin"


@pytest.fixture(params=["sqlite"])
def engine_name(request) -> str:
    """The CLI is a thin shell over the services tested on both engines; here one engine is enough."""
    return request.param


def test_first_start_creates_the_first_admin_then_the_admin_adds_people(run_cli, tmp_path):
    db = f"sqlite:///{tmp_path / 'new.db'}"
    first = run_cli("users", "add", "root", "--full-name", "Root Admin", "--email", "root@example.org",
                    "--roles", "admin", STDIN, "--json", db=db, input="root password 0\n")  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["roles"] == ["admin"]
    added = run_cli("users", "add", "zoe", "--full-name", "Zoë Ñúñez", "--email", "zoe@example.org",
                    "--roles", "reviewer,approver", "--user", "root", STDIN, db=db,
                    input="root password 0\nzoe password 666\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    listing = run_cli("users", "list", "--json", db=db)
    people = {u["username"]: u for u in json.loads(listing.stdout)}
    assert people["zoe"]["full_name"] == "Zoë Ñúñez" and people["zoe"]["roles"] == ["approver", "reviewer"]
    assert len(bytes.fromhex(people["zoe"]["public_key"])) == 32
    passwd = run_cli(
        "users", "passwd", "--user", "zoe", STDIN, db=db, input="zoe password 666\nzoe password 777\n"
    )
    assert passwd.returncode == 0, passwd.stderr


def test_review_sign_off_with_four_eyes_wrong_password_and_verify(run_cli, world_db_url, world, world_sql):
    def cli(*args, password=None, user=None):
        extra = ("--user", user, STDIN) if user else ()
        return run_cli(*args, *extra, db=world_db_url, input=f"{password or PASSWORDS.get(user, '')}\n")

    opened = cli("review", "open", "credit", "4", "--title", "release", "--json", user="zoe")
    assert opened.returncode == 0, opened.stderr
    review = json.loads(opened.stdout)
    rid = str(review["id"])
    assert review["state"] == "draft" and review["bundle"]["logs"][0]["log_id"] == world.log_id
    added = cli("review", "finding", rid, "--type", "limitation", "--severity", "medium", "--title",
                "few young applicants", user="zoe")  # fmt: skip
    assert added.returncode == 0, added.stderr
    submitted = cli("review", "submit", rid, "--json", user="zoe")
    assert submitted.returncode == 0, submitted.stderr
    bundle_hash = json.loads(submitted.stdout)["bundle_hash"]

    own = cli("review", "sign", rid, "--meaning", "approved", user="zoe")
    assert own.returncode == 4 and "four-eyes" in own.stderr and "Traceback" not in own.stderr
    wrong = cli("review", "sign", rid, "--meaning", "reviewed", user="bob", password="not it")
    assert wrong.returncode == 4 and "wrong username or password" in wrong.stderr

    reviewed = cli("review", "sign", rid, "--meaning", "reviewed", user="bob")
    assert reviewed.returncode == 0, reviewed.stderr
    assert "must still sign  1 approver (not: dave, zoe as approver)" in reviewed.stdout
    assert "Bob Brown" in reviewed.stdout and "current" in reviewed.stdout
    approved = cli(
        "review", "sign", rid, "--meaning", "approved", "--bundle-hash", bundle_hash, "--json", user="carol"
    )
    assert approved.returncode == 0, approved.stderr
    final = json.loads(approved.stdout)
    assert final["state"] == "approved" and final["who_must_still_sign"] == [] and not final["stale"]
    assert [(s["manifest"]["printed_name"], s["covers_current_evidence"]) for s in final["signatures"]] == [
        ("Bob Brown", True),
        ("Carol Çelik", True),
    ]

    verified = cli("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "signatures checked: 2, problems: 0" in verified.stdout

    world_sql("DROP TRIGGER signature_no_update")
    world_sql("UPDATE signature SET meaning = 'rejected' WHERE signer = 'carol'")
    tampered = cli("verify", "--json")
    assert tampered.returncode == 1
    report = json.loads(tampered.stdout)
    assert report["audit_chain"]["ok"] and not report["ok"]
    assert {p["signer"] for p in report["signature_problems"]} == {"carol"}


def test_a_review_takes_the_signatures_it_needs_from_a_policy(run_cli, world_db_url, tmp_path):
    """The policy states how many signatures of which role an approval needs (issue 6)."""
    policy = tmp_path / "two-approvers.yaml"
    shipped = (Path(__file__).parents[2] / "resources" / "policies" / "default.yaml").read_text()
    document = yaml.safe_load(shipped)
    document["name"] = "two-approvers"
    document["required_signatures"] = [{"role": "reviewer", "count": 1}, {"role": "approver", "count": 2}]
    policy.write_text(yaml.safe_dump(document), encoding="utf-8")

    opened = run_cli("review", "open", "credit", "4", "--policy", str(policy), "--json", "--user", "zoe", STDIN,
                     db=world_db_url, input=f"{PASSWORDS['zoe']}\n")  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    review = json.loads(opened.stdout)
    # Nobody has signed yet, so everything the policy requires is still outstanding.
    assert review["who_must_still_sign"] == document["required_signatures"]

    both = run_cli("review", "open", "credit", "4", "--policy", str(policy), "--require", "approver=1",
                   "--user", "zoe", STDIN, db=world_db_url, input=f"{PASSWORDS['zoe']}\n")  # fmt: skip
    assert both.returncode != 0 and "not both" in both.stderr and "Traceback" not in both.stderr
