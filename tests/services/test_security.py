"""Password hashes and sealed Ed25519 keys; signatures checked by OpenSSL as an independent verifier."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from argon2.low_level import Type, verify_secret

from signoff.domain.canonical import canonical_json
from signoff.domain.errors import PermissionDenied
from signoff.services.security import (
    SigningKey,
    fingerprint,
    hash_password,
    new_signing_key,
    password_matches,
    password_needs_rehash,
    reseal_signing_key,
    sign_manifest,
    signature_is_valid,
)

MANIFEST = {
    "format": "signoff.review-signature/1",
    "review_id": 1,
    "printed_name": "Zoë Łukasz",
    "meaning": "approved",
}


def test_password_hash_is_argon2id():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_secret(stored.encode(), b"correct horse battery", Type.ID)
    assert password_matches(stored, "correct horse battery")
    assert not password_matches(stored, "correct horse batterY")


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_signing_key("zoe", "first password 1")


def test_openssl_verifies_the_signature_over_the_canonical_manifest(key, tmp_path: Path):
    signature = sign_manifest("zoe", key, "first password 1", MANIFEST)
    assert signature_is_valid(key.public_key, MANIFEST, signature)
    # SubjectPublicKeyInfo DER for Ed25519 is a fixed 12-byte prefix + the raw key (RFC 8410).
    der = bytes.fromhex("302a300506032b6570032100") + key.public_key
    (tmp_path / "pub.der").write_bytes(der)
    (tmp_path / "msg").write_bytes(canonical_json(MANIFEST))
    (tmp_path / "sig").write_bytes(signature)
    result = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.der", "-keyform", "DER", "-rawin",
         "-in", "msg", "-sigfile", "sig"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout


def test_any_change_to_the_manifest_or_signature_fails_verification(key):
    signature = sign_manifest("zoe", key, "first password 1", MANIFEST)
    assert not signature_is_valid(key.public_key, {**MANIFEST, "meaning": "rejected"}, signature)
    assert not signature_is_valid(key.public_key, MANIFEST, bytes([signature[0] ^ 1]) + signature[1:])
    other = new_signing_key("zoe", "first password 1")
    assert not signature_is_valid(other.public_key, MANIFEST, signature)


def test_the_private_key_is_sealed_under_the_password(key):
    envelope = json.loads(key.sealed_private_key)
    assert envelope["kdf"]["name"] == "scrypt" and envelope["cipher"] == "AES-256-GCM"
    with pytest.raises(PermissionDenied, match="wrong password"):
        sign_manifest("zoe", key, "not the password", MANIFEST)
    with pytest.raises(PermissionDenied, match="wrong password"):
        sign_manifest("mallory", key, "first password 1", MANIFEST)  # sealed key moved to another account


def test_a_password_change_reseals_the_same_key_pair(key):
    resealed = reseal_signing_key("zoe", key, "first password 1", "second password 2")
    assert resealed.public_key == key.public_key and resealed.sealed_private_key != key.sealed_private_key
    signature = sign_manifest("zoe", resealed, "second password 2", MANIFEST)
    assert signature_is_valid(key.public_key, MANIFEST, signature)
    with pytest.raises(PermissionDenied):
        sign_manifest("zoe", resealed, "first password 1", MANIFEST)
    assert fingerprint(key.public_key) == fingerprint(resealed.public_key)
    assert len(fingerprint(key.public_key)) == 64


def test_hashes_made_with_other_costs_are_flagged_for_an_upgrade():
    from argon2 import PasswordHasher

    assert password_needs_rehash(PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash("pw"))
    assert not password_needs_rehash(hash_password("pw"))
