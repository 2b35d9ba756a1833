"""Identity on every change, approval bound to the verdict, conditions and signed waivers: real processes.

Each refusal is checked with its message and with the database left as it was; the actor of each
change is the signed-in account, with the OS login and host beside it as facts. Runs on SQLite and on
a real PostgreSQL server (the review world's fixtures), except where one engine says all.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy

from review_world import PASSWORDS, drop_guards
from signoff.domain.policy import Operator, PolicyEvaluation, Rule, RuleStatus, RuleVerdict
from signoff.domain.users import Role
from signoff.services import reviews, users
from signoff.storage import open_database

STDIN = "--password-stdin"
SIGN_IN_FIRST = "signoff: sign in first: --user NAME or SIGNOFF_TOKEN\n"
CI_PASSWORD = "ci-bot pipeline secret"


def _cli(run_cli, url):
    def cli(*args, user=None, password=None, token=None, input=None):
        extra = ("--user", user, STDIN) if user else ()
        if input is None and (user or password):
            input = f"{password or PASSWORDS[user]}\n"
        env = {"SIGNOFF_TOKEN": token} if token else None
        return run_cli(*args, *extra, db=url, input=input, env=env)

    return cli


def _add_service_account(url: str) -> None:
    with open_database(url) as db:
        root = users.authenticate(db, "root", PASSWORDS["root"])
        users.add_user(db, root, username="ci-bot", full_name="CI pipeline", email="ci@example.org",
                       roles=frozenset({Role.SERVICE}), password=CI_PASSWORD)  # fmt: skip


def test_a_change_needs_an_account_and_the_account_is_the_actor(
    run_cli, world_db_url, world_sql, dump_tables
):
    cli = _cli(run_cli, world_db_url)
    before = dump_tables(world_db_url)
    refused = cli("models", "add", "credit", "5")
    assert (refused.returncode, refused.stderr) == (2, SIGN_IN_FIRST)
    assert dump_tables(world_db_url) == before  # nothing changed, not even an audit event
    assert cli("review", "list").returncode == 0  # reading needs no account

    login = cli("login", "--print-token", "--expires", "90d", user="bob")
    assert login.returncode == 0, login.stderr
    token = login.stdout.strip()
    [(stored_hash, expires_at)] = world_sql("SELECT token_sha256, expires_at FROM auth_token")
    assert stored_hash == hashlib.sha256(token.encode()).hexdigest()  # only the hash is kept
    expires = expires_at if isinstance(expires_at, datetime) else datetime.fromisoformat(str(expires_at))
    expected = datetime.now(UTC) + timedelta(days=90)
    assert abs(expires.replace(tzinfo=UTC) - expected) < timedelta(minutes=5)

    assert cli("models", "add", "credit", "5", token=token).returncode == 0
    assert cli("models", "add", "credit", "6", user="carol").returncode == 0
    log = cli("audit", "log", "--action", "model.added", "--json")
    events = {e["entity"]: e for e in json.loads(log.stdout)}
    by_token, by_password = (e for e in sorted(events.values(), key=lambda e: e["sequence"]))
    assert (by_token["actor"], by_password["actor"]) == ("bob", "carol")
    for event, method in ((by_token, "token"), (by_password, "password")):
        session = event["payload"]["session"]
        assert session == {
            "account": event["actor"],
            "authenticated_by": method,
            "os_login": getpass.getuser(),
            "host": socket.gethostname(),
        }
        assert event["actor_label"] == event["actor"]

    assert cli("logout", token=token).returncode == 0
    ended = cli("models", "add", "credit", "7", token=token)
    assert ended.returncode == 4 and "ended by `signoff logout`" in ended.stderr
    assert [r[0] for r in world_sql("SELECT version FROM model_version ORDER BY id")] == ["4", "5", "6"]


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_a_token_expires_and_events_before_accounts_read_as_unauthenticated(run_cli, world_db_url, world_sql):
    cli = _cli(run_cli, world_db_url)
    with open_database(world_db_url) as db:
        issued = users.issue_token(db, "bob", PASSWORDS["bob"], lifetime=timedelta(seconds=1))
    time.sleep(1.5)
    expired = cli("models", "add", "credit", "5", token=issued.token)
    assert expired.returncode == 4 and "the sign-in token expired at" in expired.stderr
    unknown = cli("models", "add", "credit", "5", token="sot_not-a-token")
    assert unknown.returncode == 4 and "not known" in unknown.stderr
    # The world's first events were written by services with no signed-in session, as before 0007.
    log = json.loads(cli("audit", "log", "--action", "user.created", "--json").stdout)
    labels = {e["entity"]: e["actor_label"] for e in log}
    assert labels["user:alice"] == "unauthenticated (OS login root)"
    text = cli("audit", "log", "--action", "user.created").stdout
    assert "unauthenticated (OS login root)" in text


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_a_service_account_works_but_never_signs_waives_or_trusts(run_cli, world_db_url, world, world_sql):
    _add_service_account(world_db_url)
    cli = _cli(run_cli, world_db_url)
    token = cli(
        "login", "--print-token", "--expires", "90d", user="ci-bot", password=CI_PASSWORD
    ).stdout.strip()
    assert token.startswith("sot_")
    assert cli("models", "add", "credit", "5", token=token).returncode == 0  # a pipeline may register
    with open_database(world_db_url) as db:
        opened = reviews.open_review(db, "zoe", model_version_id=world.model_version_id)
        reviews.submit(db, "zoe", opened.review.id)
    rid = str(opened.review.id)
    sign = cli("review", "sign", rid, "--meaning", "reviewed", STDIN, token=token, input=f"{CI_PASSWORD}\n")
    assert (
        sign.returncode == 4
        and "'ci-bot' cannot sign review" in sign.stderr
        and "reviewer role" in sign.stderr
    )
    waive = cli("waivers", "add", "credit", "4", "--rule", "four-fifths", "--until", "2099-01-01",
                "--justification", "the pipeline wants it waived", STDIN, token=token,
                input=f"{CI_PASSWORD}\n")  # fmt: skip
    assert waive.returncode == 4 and "admin or approver role needed to grant a waiver" in waive.stderr
    assert world_sql("SELECT count(*) FROM signature")[0][0] == 0
    assert world_sql("SELECT count(*) FROM waiver")[0][0] == 0
    mixed = cli("users", "add", "mixed", "--full-name", "M", "--email", "m@example.org", "--roles",
                "service,approver", user="root", input=f"{PASSWORDS['root']}\nmixed password 12\n")  # fmt: skip
    assert mixed.returncode == 2 and "cannot be combined" in mixed.stderr


def _failing_policy_run(url: str, model_version_id: int) -> None:
    """A recorded policy evaluation that fails four-fifths at sex (numbers written by hand)."""
    rule = Rule(id="four-fifths", metric="impact_ratio", scopes=("sex",), operator=Operator.GE, threshold=0.8)
    evaluation = PolicyEvaluation(
        policy_name="lending-four-fifths",
        policy_version="a" * 64,
        evaluated_on=date(2026, 12, 1),
        verdicts=(
            RuleVerdict(
                rule=rule,
                scope="sex",
                status=RuleStatus.FAIL,
                value=0.61,
                ci_low=0.55,
                ci_high=0.68,
                n=240,
                judged=0.61,
                reason="0.61 is not >= 0.8",
            ),
        ),
    )
    with open_database(url) as db, db.transaction() as uow:
        run = uow.analysis_runs.add(kind="policy", model_version_id=model_version_id, inputs={"policy": "a" * 64},
                                    parameters={"policy_name": "lending-four-fifths"}, engine_version="test 1",
                                    result=evaluation.to_dict(), created_by="alice")  # fmt: skip
        # Recorded as the policy service records it, so that `signoff verify` finds its event.
        uow.audit.append(actor="alice", action="policy.evaluated", entity=f"analysis_run:{run.id}",
                         payload={"model_version_id": model_version_id, "result_sha256": run.result_sha256})  # fmt: skip


def test_approval_is_bound_to_the_verdict_and_conditions_are_obligations(
    run_cli, world_db_url, world, world_sql, dump_tables, engine_name
):
    cli = _cli(run_cli, world_db_url)
    _failing_policy_run(world_db_url, world.model_version_id)
    with open_database(world_db_url) as db:
        opened = reviews.open_review(db, "zoe", model_version_id=world.model_version_id)
        rid = opened.review.id
        reviews.add_finding(db, "zoe", rid, type="limitation", severity="high", title="few young applicants")
        reviews.submit(db, "zoe", rid)
        reviews.sign(db, rid, username="bob", password=PASSWORDS["bob"], meaning="reviewed")

    shown = json.loads(cli("review", "show", str(rid), "--json").stdout)
    verdict = shown["policy_verdict"]
    assert verdict["verdict"] == "FAIL" and verdict["policy"] == "lending-four-fifths"
    [failing] = verdict["failing_rules"]
    assert (failing["rule_id"], failing["value"], failing["n"], failing["threshold"]) == (
        "four-fifths",
        0.61,
        240,
        0.8,
    )
    text = cli("review", "show", str(rid)).stdout
    assert "policy verdict   FAIL (policy lending-four-fifths, evaluated 2026-12-01)" in text
    assert "FAIL: four-fifths at sex: observed 0.61 [0.55, 0.68], threshold >= 0.8, n 240" in text

    before = dump_tables(world_db_url)
    approve = cli("review", "sign", str(rid), "--meaning", "approved", user="carol")
    assert approve.returncode == 4, approve.stderr
    assert (
        f"cannot approve review {rid}: the policy verdict is FAIL (four-fifths at sex: observed 0.61 "
        "[0.55, 0.68], threshold >= 0.8, n 240 (0.61 is not >= 0.8)); and open high/critical findings: "
        "#1 high: few young applicants" in approve.stderr
    )
    after = dump_tables(world_db_url)
    assert after["signature"] == before["signature"] and after["review"] == before["review"]

    due = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    bare = cli("review", "sign", str(rid), "--meaning", "approved_with_conditions", "--condition",
               f"retrain|owner=bob|due={due}", user="carol")  # fmt: skip
    assert bare.returncode == 2 and "needs a justification" in bare.stderr
    no_condition = cli("review", "sign", str(rid), "--meaning", "approved_with_conditions", "--justification",
                       "usable for the pilot branch only", user="carol")  # fmt: skip
    assert no_condition.returncode == 2 and "at least one condition" in no_condition.stderr
    stranger = cli("review", "sign", str(rid), "--meaning", "approved_with_conditions", "--justification",
                   "usable for the pilot", "--condition", f"retrain|owner=nobody|due={due}", user="carol")  # fmt: skip
    assert stranger.returncode == 2 and "'nobody' is not an enabled Signoff account" in stranger.stderr
    assert dump_tables(world_db_url)["signature"] == before["signature"]

    signed = cli("review", "sign", str(rid), "--meaning", "approved_with_conditions", "--justification",
                 "usable for the pilot branch while the gap is closed", "--condition",
                 f"retrain on 2027 data|owner=bob|due={due}", "--condition",
                 f"monthly four-fifths report|owner=alice|due={due}", "--json", user="carol")  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    decided = json.loads(signed.stdout)
    assert decided["state"] == "approved_with_conditions"
    manifest = decided["signatures"][-1]["manifest"]
    assert manifest["justification"] == "usable for the pilot branch while the gap is closed"
    assert manifest["conditions"] == [
        {"text": "retrain on 2027 data", "owner": "bob", "due": due},
        {"text": "monthly four-fifths report", "owner": "alice", "due": due},
    ]
    listed = json.loads(cli("conditions", "list", "--json").stdout)
    assert [(c["owner"], c["status"], c["overdue"]) for c in listed] == [
        ("bob", "open", False),
        ("alice", "open", False),
    ]
    assert json.loads(cli("conditions", "list", "--overdue", "--json").stdout) == []

    # Time passes: bob's condition falls due yesterday.
    bob_id = next(c["id"] for c in listed if c["owner"] == "bob")
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    # The database keeps a signed due date (0008_tamper): moving it, to make time pass, means going
    # around its guard; the signed date is put back before the final verify.
    drop_guards(world_sql, engine_name, "review_condition")
    world_sql("UPDATE review_condition SET due = :due WHERE id = :id", due=yesterday, id=bob_id)
    overdue = json.loads(cli("conditions", "list", "--overdue", "--json").stdout)
    assert [(c["id"], c["overdue"], c["model_version"]) for c in overdue] == [(bob_id, True, "credit v4")]
    assert "OVERDUE" in cli("conditions", "list").stdout

    not_owner = cli("conditions", "close", str(bob_id), "--evidence", "done", user="alice")
    assert not_owner.returncode == 4 and "owned by 'bob'" in not_owner.stderr
    closed = cli("conditions", "close", str(bob_id), "--evidence", "retrained, run 42", "--json", user="bob")
    assert closed.returncode == 0, closed.stderr
    assert json.loads(closed.stdout)["status"] == "closed" and json.loads(closed.stdout)["closed_by"] == "bob"
    assert json.loads(cli("conditions", "list", "--overdue", "--json").stdout) == []
    moved = cli("verify")
    assert (
        moved.returncode == 1
        and f"review_condition {bob_id}: its text, owner or due date differ" in moved.stdout
    )
    world_sql("UPDATE review_condition SET due = :due WHERE id = :id", due=date.fromisoformat(due), id=bob_id)
    verified = cli("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_waiver_is_signed_by_an_approver_and_a_tampered_one_is_caught(
    run_cli, world_db_url, world_sql, engine_name
):
    cli = _cli(run_cli, world_db_url)
    free_text = cli("waivers", "add", "credit", "4", "--rule", "four-fifths", "--until", "2099-01-01",
                    "--justification", "pilot branch only until re-fit", "--granted-by", "ceo", user="carol")  # fmt: skip
    assert free_text.returncode == 2 and "--granted-by" in free_text.stderr  # no free-text granter any more
    granted = cli("waivers", "add", "credit", "4", "--rule", "four-fifths", "--until", "2099-01-01",
                  "--justification", "pilot branch only until re-fit", "--json", user="carol")  # fmt: skip
    assert granted.returncode == 0, granted.stderr
    waiver = json.loads(granted.stdout)
    assert (waiver["granted_by"], waiver["printed_name"], waiver["role"]) == (
        "carol",
        "Carol Çelik",
        "approver",
    )
    assert cli("verify").returncode == 0

    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):  # the database refuses it
        world_sql("UPDATE waiver SET until = '2199-01-01' WHERE id = :id", id=waiver["id"])
    drop_guards(world_sql, engine_name, "waiver")  # and behind its guard, verify catches it
    world_sql("UPDATE waiver SET until = '2199-01-01' WHERE id = :id", id=waiver["id"])
    tampered = cli("verify")
    assert tampered.returncode == 1
    assert f"waiver {waiver['id']}: the Ed25519 signature does not verify" in tampered.stdout


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_lockout_password_policy_and_an_admin_reset_that_forces_a_change(run_cli, world_db_url, world):
    cli = _cli(run_cli, world_db_url)
    with open_database(world_db_url) as db:  # bob signs before his reset: that signature must still verify
        opened = reviews.open_review(db, "zoe", model_version_id=world.model_version_id)
        reviews.submit(db, "zoe", opened.review.id)
        reviews.sign(db, opened.review.id, username="bob", password=PASSWORDS["bob"], meaning="reviewed")

    common = cli("users", "add", "erin", "--full-name", "Erin", "--email", "e@example.org", "--roles", "reviewer",
                 user="root", input=f"{PASSWORDS['root']}\nPassword1234\n")  # fmt: skip
    assert common.returncode == 2 and "commonly used" in common.stderr
    same = cli("users", "add", "erin.example", "--full-name", "Erin", "--email", "e@example.org", "--roles",
               "reviewer", user="root", input=f"{PASSWORDS['root']}\nerin.example\n")  # fmt: skip
    assert same.returncode == 2 and "must not be the username" in same.stderr

    reset = cli("users", "reset", "bob", user="root", input=f"{PASSWORDS['root']}\ntemporary pass 77\n")
    assert reset.returncode == 0, reset.stderr
    forced = cli("models", "add", "credit", "5", user="bob", password="temporary pass 77")
    assert forced.returncode == 4 and "was reset by an administrator: change it first" in forced.stderr
    changed = cli("users", "passwd", user="bob", input="temporary pass 77\nbob's new password 9\n")
    assert changed.returncode == 0, changed.stderr
    assert cli("models", "add", "credit", "5", user="bob", password="bob's new password 9").returncode == 0
    assert cli("verify").returncode == 0  # the signature under bob's retired key still verifies

    for attempt in range(1, 6):
        wrong = cli("models", "add", "credit", "6", user="alice", password=f"wrong guess {attempt}")
        assert wrong.returncode == 4 and "wrong username or password" in wrong.stderr
    assert "the account is locked until" in wrong.stderr
    locked = cli("models", "add", "credit", "6", user="alice")  # the right password, while locked
    assert locked.returncode == 4 and "locked after 5 failed sign-in attempts" in locked.stderr
    events = json.loads(cli("audit", "log", "--action", "user.locked", "--json").stdout)
    assert [e["entity"] for e in events] == ["user:alice"]
