"""The evidence store: content-addressed, chunked, deduplicated and verified on every read."""

from __future__ import annotations

import hashlib
import os

import pytest

from signoff.domain.errors import IntegrityError, NotFoundError
from signoff.storage.evidence import CHUNK_SIZE


def test_a_multi_chunk_file_round_trips_and_is_named_by_its_sha256(db, tmp_path):
    data = os.urandom(2 * CHUNK_SIZE + 12345)
    source = tmp_path / "log.parquet"
    source.write_bytes(data)
    seen = []
    with db.transaction() as uow:
        sha = uow.evidence.put_file(
            source, media_type="application/vnd.apache.parquet", progress=lambda d, t: seen.append((d, t))
        )
    assert sha == hashlib.sha256(data).hexdigest()
    assert seen[-1] == (len(data), len(data)) and len(seen) == 3
    with db.transaction(write=False) as uow:
        info = uow.evidence.info(sha)
        assert (info.size, info.media_type) == (len(data), "application/vnd.apache.parquet")
        assert [len(c) for c in uow.evidence.open_chunks(sha)] == [CHUNK_SIZE, CHUNK_SIZE, 12345]
        out = uow.evidence.write_to(sha, tmp_path / "copy.parquet")
        assert uow.evidence.read_bytes(sha) == data
    assert out.read_bytes() == data


def test_storing_the_same_bytes_twice_stores_them_once(db, tmp_path, raw_sql):
    data = os.urandom(CHUNK_SIZE + 1)
    (tmp_path / "a").write_bytes(data)
    with db.transaction() as uow:
        first = uow.evidence.put_file(tmp_path / "a")
    with db.transaction() as uow:
        second = uow.evidence.put_bytes(data)
        third = uow.evidence.put_file(tmp_path / "a", expected_sha256=first)
    assert first == second == third
    assert raw_sql("SELECT count(*) FROM evidence_blob") == [(1,)]
    assert raw_sql("SELECT count(*) FROM evidence_chunk") == [(2,)]


def test_empty_evidence_round_trips(db):
    with db.transaction() as uow:
        sha = uow.evidence.put_bytes(b"")
        assert uow.evidence.read_bytes(sha) == b""
    assert sha == hashlib.sha256(b"").hexdigest()


def test_a_chunk_altered_by_raw_sql_is_caught_on_read(db, raw_sql, drop_triggers, tmp_path):
    data = os.urandom(CHUNK_SIZE + 100)
    with db.transaction() as uow:
        sha = uow.evidence.put_bytes(data)
    drop_triggers("evidence_chunk")
    tampered = bytearray(data[CHUNK_SIZE:])
    tampered[7] ^= 0x01
    raw_sql(
        "UPDATE evidence_chunk SET data = :data WHERE blob_sha256 = :sha AND chunk_index = 1",
        data=bytes(tampered),
        sha=sha,
    )
    with db.transaction(write=False) as uow:
        with pytest.raises(IntegrityError, match="altered"):
            uow.evidence.read_bytes(sha)
        with pytest.raises(IntegrityError):
            uow.evidence.write_to(sha, tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()  # nothing unverified is left behind


def test_a_missing_or_truncated_chunk_is_caught(db, raw_sql, drop_triggers):
    with db.transaction() as uow:
        sha = uow.evidence.put_bytes(os.urandom(2 * CHUNK_SIZE + 1))
    drop_triggers("evidence_chunk")
    raw_sql("DELETE FROM evidence_chunk WHERE blob_sha256 = :sha AND chunk_index = 2", sha=sha)
    with db.transaction(write=False) as uow, pytest.raises(IntegrityError, match="damaged"):
        uow.evidence.read_bytes(sha)
    raw_sql("DELETE FROM evidence_chunk WHERE blob_sha256 = :sha AND chunk_index = 0", sha=sha)
    with db.transaction(write=False) as uow, pytest.raises(IntegrityError, match="chunk 0 is missing"):
        uow.evidence.read_bytes(sha)


def test_a_file_that_does_not_match_the_hash_it_was_announced_with_is_refused(db, tmp_path, raw_sql):
    (tmp_path / "f").write_bytes(b"what is really there")
    with pytest.raises(IntegrityError, match="changed while it was being stored"), db.transaction() as uow:
        uow.evidence.put_file(tmp_path / "f", expected_sha256=hashlib.sha256(b"something else").hexdigest())
    assert raw_sql("SELECT count(*) FROM evidence_blob") == [(0,)]


def test_unknown_evidence_is_not_found(db):
    with db.transaction(write=False) as uow, pytest.raises(NotFoundError):
        uow.evidence.read_bytes("0" * 64)
