"""Evidence: immutable bytes (logs, model artifacts, reports) named by their SHA-256.

What the evidence store says about a stored blob; the bytes themselves are read through the store,
which checks the hash on every read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"


@dataclass(frozen=True)
class EvidenceInfo:
    sha256: str
    size: int  # bytes
    media_type: str
    created_at: datetime
