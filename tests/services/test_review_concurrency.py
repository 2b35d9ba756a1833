"""Two real processes act on the same review at the same moment, on SQLite and on PostgreSQL.

Each process opens its own connection, waits at a barrier (files in a folder) and then acts. Whatever
the interleaving, one of them wins, the other gets a clear ``ConflictError`` (or, when both steps can
legitimately happen, both land), no signature is lost, the review's state fits its signatures and the
audit chain and every signature verify.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest
import review_worker

from review_world import PASSWORDS
from signoff.domain.review import ReviewState
from signoff.services import reviews
from signoff.services.verify import verify_database


@pytest.fixture(scope="module")
def workers():
    """Two worker processes (fresh interpreters: nothing shared but the database), reused by the tests."""
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.fixture
def at_once(workers, world_db_url, tmp_path):
    """``at_once(step, step)``: both steps start together in two processes; returns who -> (result, message)."""

    def run(*steps: tuple) -> dict[str, tuple[str, str]]:
        barrier = tmp_path / f"barrier-{len(list(tmp_path.glob('barrier-*')))}"
        barrier.mkdir()
        futures = [
            workers.submit(
                review_worker.act, world_db_url, str(barrier), len(steps), step, PASSWORDS[step[1]]
            )
            for step in steps
        ]
        return {who: (result, message) for who, result, message in (f.result(timeout=300) for f in futures)}

    return run


def _in_review(world_db, world, *, reviewed_by: str | None = None) -> int:
    review_id = reviews.open_review(world_db, "alice", model_version_id=world.model_version_id).review.id
    reviews.submit(world_db, "alice", review_id)
    if reviewed_by:
        reviews.sign(
            world_db, review_id, username=reviewed_by, password=PASSWORDS[reviewed_by], meaning="reviewed"
        )
    return review_id


def _check_consistent(world_db, review_id: int) -> None:
    verdict = verify_database(world_db)
    assert verdict.ok, verdict.to_dict()
    review = reviews.show(world_db, review_id).review
    with world_db.transaction(write=False) as uow:
        signed_events = [e for e in uow.audit.list(action="review.signed", entity=f"review:{review_id}")]
    assert sorted(e.payload["signature_id"] for e in signed_events) == sorted(s.id for s in review.signatures)
    if review.state is ReviewState.APPROVED:
        assert not review.outstanding() and review.current_signatures


def test_two_approvers_at_once_one_wins_one_conflicts(world_db, world, at_once):
    review_id = _in_review(world_db, world, reviewed_by="bob")
    outcome = at_once(("approved", "carol", review_id, None), ("approved", "olga", review_id, None))
    assert sorted(result for result, _ in outcome.values()) == ["conflict", "ok"], outcome
    loser_message = next(message for result, message in outcome.values() if result == "conflict")
    assert "approved and closed" in loser_message
    review = reviews.show(world_db, review_id).review
    winner = next(who for who, (result, _) in outcome.items() if result == "ok")
    assert review.state is ReviewState.APPROVED
    assert [(s.signer, s.meaning.value) for s in review.signatures] == [
        ("bob", "reviewed"),
        (winner, "approved"),
    ]
    _check_consistent(world_db, review_id)


def test_reviewer_and_approver_at_once_both_land_and_the_review_is_decided(world_db, world, at_once):
    review_id = _in_review(world_db, world)
    outcome = at_once(("reviewed", "bob", review_id, None), ("approved", "carol", review_id, None))
    assert outcome == {"bob": ("ok", ""), "carol": ("ok", "")}
    review = reviews.show(world_db, review_id).review
    assert sorted(s.signer for s in review.signatures) == ["bob", "carol"]  # neither signature lost
    assert review.state is ReviewState.APPROVED  # the second saw the first: no "in review" with both signed
    _check_consistent(world_db, review_id)


def test_a_signature_and_an_edit_from_the_same_shown_version_one_must_reload(world_db, world, at_once):
    review_id = _in_review(world_db, world)
    shown = reviews.show(world_db, review_id).review.version
    outcome = at_once(("reviewed", "bob", review_id, shown), ("finding", "alice", review_id, shown))
    assert sorted(result for result, _ in outcome.values()) == ["conflict", "ok"], outcome
    loser = next(who for who, (result, _) in outcome.items() if result == "conflict")
    assert "changed by someone else; reload and retry" in outcome[loser][1]
    after = reviews.show(world_db, review_id)
    assert after.review.version == shown + 1
    assert len(after.review.signatures) == (1 if loser == "alice" else 0)
    assert len(after.review.findings) == (0 if loser == "alice" else 1)
    if loser == "alice":  # the retry after reloading succeeds and leaves bob's signature stale
        retried = reviews.add_finding(
            world_db, "alice", review_id, type="limitation", severity="low", title="again"
        )
        assert retried.review.is_stale
    else:
        retried = reviews.sign(
            world_db, review_id, username="bob", password=PASSWORDS["bob"], meaning="reviewed"
        )
        assert not retried.review.is_stale
    _check_consistent(world_db, review_id)
