"""Canonical JSON and SHA-256: the one encoding every hash in Signoff is computed over.

Keys sorted, no insignificant white space, UTF-8, floats in their shortest round-trip form, NaN and
infinities refused (they have no JSON form and would make two different values hash alike). Hashes
are lowercase hex.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` (dicts, lists, str, int, float, bool, None) canonically as UTF-8 bytes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_hash(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``value``."""
    return sha256_hex(canonical_json(value))
