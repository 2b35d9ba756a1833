"""The evidence store: immutable, content-addressed blobs kept inside the database.

A blob is named by the SHA-256 of its bytes and stored as ordered chunks of a few MiB, so a
multi-GB prediction log goes in and comes out in bounded memory on SQLite and PostgreSQL alike.
Storing the same bytes twice stores them once. Every read recomputes the hash and raises
``IntegrityError`` when the stored bytes no longer match their name.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from signoff.domain.errors import InputError, IntegrityError, NotFoundError
from signoff.domain.evidence import EvidenceInfo
from signoff.storage.schema import EvidenceBlobRow, EvidenceChunkRow

CHUNK_SIZE = 4 * 1024 * 1024
_HASH_READ_SIZE = 1024 * 1024

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)

_blobs = EvidenceBlobRow.__table__
_chunks = EvidenceChunkRow.__table__


class EvidenceStore:
    """Blobs in one unit of work. Iterators it returns are valid until that transaction ends."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def exists(self, sha256: str) -> bool:
        return (
            self._session.execute(select(_blobs.c.sha256).where(_blobs.c.sha256 == sha256)).first()
            is not None
        )

    def info(self, sha256: str) -> EvidenceInfo:
        row = self._session.execute(
            select(_blobs.c.sha256, _blobs.c.size, _blobs.c.media_type, _blobs.c.created_at).where(
                _blobs.c.sha256 == sha256
            )
        ).first()
        if row is None:
            raise NotFoundError(f"no evidence with SHA-256 {sha256} is stored")
        return EvidenceInfo(*row)

    def count(self) -> int:
        return int(self._session.execute(select(func.count()).select_from(_blobs)).scalar_one())

    def put_bytes(self, data: bytes, *, media_type: str = "application/octet-stream") -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if self._claim(sha256, len(data), media_type):
            for index, start in enumerate(range(0, len(data), CHUNK_SIZE)):
                self._insert_chunk(sha256, index, data[start : start + CHUNK_SIZE])
        return sha256

    def put_file(
        self,
        path: Path,
        *,
        media_type: str = "application/octet-stream",
        expected_sha256: str | None = None,
        progress: Progress | None = None,
    ) -> str:
        """Store a file by streaming it; returns its SHA-256.

        ``expected_sha256`` (when the caller already hashed the file) saves the first of two passes;
        either way the hash is recomputed over exactly the bytes stored, and a file that changed
        meanwhile is refused.
        """
        path = Path(path)
        try:
            size = path.stat().st_size
            sha256 = expected_sha256 or _hash_file(path)
        except OSError as error:
            raise InputError(f"cannot read the file: {error.strerror}", file=str(path)) from error
        if not self._claim(sha256, size, media_type):
            return sha256
        digest = hashlib.sha256()
        done = 0
        with path.open("rb") as stream:
            for index, chunk in enumerate(iter(lambda: stream.read(CHUNK_SIZE), b"")):
                digest.update(chunk)
                self._insert_chunk(sha256, index, chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, size)
        if digest.hexdigest() != sha256 or done != size:
            raise IntegrityError(
                f"file {path} changed while it was being stored (expected SHA-256 {sha256}, "
                f"read {digest.hexdigest()}); nothing was stored. Try again once it is complete."
            )
        return sha256

    def open_chunks(self, sha256: str) -> Iterator[bytes]:
        """The blob's bytes in order. The hash is checked as the last chunk is handed out: a caller
        must read to the end before trusting what it got (``write_to`` and ``read_bytes`` do)."""
        info = self.info(sha256)
        indexes = self._session.execute(
            select(_chunks.c.chunk_index)
            .where(_chunks.c.blob_sha256 == sha256)
            .order_by(_chunks.c.chunk_index)
        ).scalars()
        digest = hashlib.sha256()
        size = 0
        for expected_index, index in enumerate(indexes.all()):
            if index != expected_index:
                raise IntegrityError(f"evidence {sha256} is damaged: chunk {expected_index} is missing")
            chunk = self._session.execute(
                select(_chunks.c.data).where(_chunks.c.blob_sha256 == sha256, _chunks.c.chunk_index == index)
            ).scalar_one()
            digest.update(chunk)
            size += len(chunk)
            if size == info.size and digest.hexdigest() != sha256:
                raise _altered(sha256, digest.hexdigest())
            yield bytes(chunk)
        if size != info.size:
            raise IntegrityError(f"evidence {sha256} is damaged: {size} bytes stored, {info.size} expected")
        if digest.hexdigest() != sha256:
            raise _altered(sha256, digest.hexdigest())

    def damage(self, sha256: str) -> str | None:
        """Why the stored blob ``sha256`` no longer is what its name says; None when it re-hashes."""
        try:
            for _chunk in self.open_chunks(sha256):
                pass
        except IntegrityError as error:
            return str(error)
        return None

    def iter_damage(self, progress: Progress | None = None) -> Iterator[tuple[str, str]]:
        """Re-hash every blob in one ordered pass over the chunks; yields (sha256, what is wrong).

        Reads the chunks as one stream (a server-side cursor on PostgreSQL), so verifying many GB
        costs one sequential read and SHA-256, in the memory of a few chunks. SHA-256 runs on a second
        thread while the next chunks are read (both release the GIL), in chunk order.
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-hash") as hasher:
            yield from self._iter_damage(hasher, progress)

    def _iter_damage(
        self, hasher: ThreadPoolExecutor, progress: Progress | None
    ) -> Iterator[tuple[str, str]]:
        sizes = dict(self._session.execute(select(_blobs.c.sha256, _blobs.c.size)).all())
        total = sum(sizes.values())
        statement = (
            select(_chunks.c.blob_sha256, _chunks.c.chunk_index, _chunks.c.data)
            .order_by(_chunks.c.blob_sha256, _chunks.c.chunk_index)
            .execution_options(yield_per=4)
        )
        seen: set[str] = set()
        current: str | None = None
        digest = hashlib.sha256()
        size = expected_index = done = 0

        pending: deque[Future[None]] = deque()

        def finish(sha256: str) -> str | None:
            while pending:
                pending.popleft().result()
            if sha256 not in sizes:
                return "chunks are stored for a blob that is not recorded"
            if expected_index == -1:
                return "its chunks are not numbered in order (one is missing)"
            if size != sizes[sha256]:
                return f"{size} bytes are stored, {sizes[sha256]} were recorded at import"
            if digest.hexdigest() != sha256:
                return f"its stored bytes hash to {digest.hexdigest()}: they were altered"
            return None

        for sha256, index, data in self._session.execute(statement):
            if sha256 != current:
                if current is not None and (problem := finish(current)) is not None:
                    yield current, problem
                current, digest, size, expected_index = sha256, hashlib.sha256(), 0, 0
                seen.add(sha256)
            if expected_index != -1:
                expected_index = expected_index + 1 if index == expected_index else -1
            pending.append(hasher.submit(digest.update, data))
            if len(pending) > 2:  # at most a few chunks in memory
                pending.popleft().result()
            size += len(data)
            done += len(data)
            if progress is not None:
                progress(done, total)
        if current is not None and (problem := finish(current)) is not None:
            yield current, problem
        for sha256 in sorted(set(sizes) - seen):
            if sizes[sha256]:
                yield sha256, f"none of its {sizes[sha256]} bytes are stored"
            elif sha256 != hashlib.sha256(b"").hexdigest():
                yield sha256, "it is recorded as empty, but empty bytes have another hash"

    def read_bytes(self, sha256: str) -> bytes:
        return b"".join(self.open_chunks(sha256))

    def write_to(self, sha256: str, path: Path) -> Path:
        """Write a blob to ``path``; the file appears only once its hash has been checked."""
        path = Path(path)
        partial = path.with_name(f".{path.name}.partial")
        try:
            with partial.open("wb") as stream:
                for chunk in self.open_chunks(sha256):
                    stream.write(chunk)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return path

    def _claim(self, sha256: str, size: int, media_type: str) -> bool:
        """Insert the blob's row unless it exists; True when this transaction must store the bytes.

        ON CONFLICT DO NOTHING makes a concurrent writer of the same bytes (PostgreSQL) wait for the
        first and then skip, instead of failing on the primary key.
        """
        if self.exists(sha256):
            return False
        make_insert = sqlite_insert
        if self._session.get_bind().dialect.name == "postgresql":
            # Imported here: the PostgreSQL dialect costs a tenth of a second a SQLite process never needs.
            from sqlalchemy.dialects.postgresql import insert as make_insert
        statement = (
            make_insert(_blobs)
            .values(sha256=sha256, size=size, media_type=media_type, created_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["sha256"])
            .returning(_blobs.c.sha256)
        )
        return self._session.execute(statement).first() is not None

    def _insert_chunk(self, sha256: str, index: int, data: bytes) -> None:
        self._session.execute(insert(_chunks).values(blob_sha256=sha256, chunk_index=index, data=data))


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(_HASH_READ_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def _altered(sha256: str, actual: str) -> IntegrityError:
    return IntegrityError(
        f"evidence {sha256} was altered: its stored bytes hash to {actual}. Do not use it; "
        "restore the database from a backup and run `signoff audit verify`."
    )
