"""Passwords and signing keys: argon2id password hashes and one Ed25519 key pair per user.

The private key never exists unencrypted outside memory: it is sealed with AES-256-GCM under a key
derived from the user's password with scrypt (N=2**15, r=8, p=1), so a signature can only be made by
someone who types that password at the moment of signing (Part 11 §11.200). The sealed key names its
owner and public key as associated data, so it cannot be moved to another account.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from signoff.domain.canonical import canonical_json
from signoff.domain.errors import IntegrityError, PermissionDenied

SEALED_KEY_FORMAT = "signoff.sealed-ed25519/1"
SEALED_PKCS8_FORMAT = "signoff.sealed-pkcs8/1"  # a personal document-signing key (services/authority.py)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
WRONG_PASSWORD = "wrong password for {name!r}"

# argon2id at the first of OWASP's equivalent settings (Password Storage Cheat Sheet: m=46 MiB, t=1, p=1):
# about 0.1 s on a laptop core. The costs are stored in each hash, so raising them later only affects
# new hashes; ``password_needs_rehash`` says when an old one should be upgraded at the next sign-in.
ARGON2_TIME_COST, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM = 1, 47104, 1
_password_hasher = PasswordHasher(
    time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM
)


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(stored_hash, password)
    except VerifyMismatchError:
        return False
    except (InvalidHashError, VerificationError) as error:
        raise IntegrityError(f"a stored password hash is damaged: {error}") from None


def password_needs_rehash(stored_hash: str) -> bool:
    return _password_hasher.check_needs_rehash(stored_hash)


def fingerprint(public_key: bytes) -> str:
    """SHA-256 (hex) of the raw 32-byte public key: how a signature names the key that made it."""
    return hashlib.sha256(public_key).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    """A user's key pair as stored: the raw public key and the sealed private key."""

    public_key: bytes
    sealed_private_key: bytes


def _associated_data(username: str, public_key: bytes) -> bytes:
    return canonical_json({"format": SEALED_KEY_FORMAT, "username": username, "public_key": public_key.hex()})


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password.encode("utf-8"))


def _seal_bytes(raw: bytes, password: str, associated_data: bytes, format_name: str) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    envelope = {
        "format": format_name,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
        "cipher": "AES-256-GCM",
        "nonce": _b64(nonce),
        "ciphertext": _b64(AESGCM(key).encrypt(nonce, raw, associated_data)),
    }
    return canonical_json(envelope)


def _unseal_bytes(sealed: bytes, password: str, associated_data: bytes) -> bytes:
    """The sealed bytes; ``InvalidTag`` for a wrong password, ValueError/KeyError/TypeError when damaged."""
    envelope: dict[str, Any] = json.loads(sealed)
    kdf = envelope["kdf"]
    derived = _derive(password, _unb64(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"])
    return AESGCM(derived).decrypt(_unb64(envelope["nonce"]), _unb64(envelope["ciphertext"]), associated_data)


def _seal(username: str, private_key: Ed25519PrivateKey, password: str) -> bytes:
    public_key = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    raw = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return _seal_bytes(raw, password, _associated_data(username, public_key), SEALED_KEY_FORMAT)


def _unseal(username: str, key: SigningKey, password: str) -> Ed25519PrivateKey:
    try:
        raw = _unseal_bytes(key.sealed_private_key, password, _associated_data(username, key.public_key))
    except InvalidTag:
        raise PermissionDenied(WRONG_PASSWORD.format(name=username)) from None
    except (ValueError, KeyError, TypeError) as error:
        raise IntegrityError(f"the stored signing key of {username!r} is damaged: {error}") from None
    private_key = Ed25519PrivateKey.from_private_bytes(raw)
    if _raw_public(private_key) != key.public_key:
        raise IntegrityError(f"the stored signing key of {username!r} does not match its public key")
    return private_key


def _pkcs8_associated_data(username: str, certificate_sha256: str) -> bytes:
    return canonical_json(
        {"format": SEALED_PKCS8_FORMAT, "username": username, "certificate": certificate_sha256}
    )


def seal_pkcs8(username: str, private_key_der: bytes, certificate_sha256: str, password: str) -> bytes:
    """A PKCS#8 private key sealed like the sign-off key (scrypt, AES-256-GCM), bound to its owner and to
    the certificate it belongs to, so it cannot be moved to another account or certificate."""
    associated = _pkcs8_associated_data(username, certificate_sha256)
    return _seal_bytes(private_key_der, password, associated, SEALED_PKCS8_FORMAT)


def unseal_pkcs8(username: str, sealed: bytes, certificate_sha256: str, password: str) -> bytes:
    """The PKCS#8 DER sealed by ``seal_pkcs8``; ``PermissionDenied`` when the password does not open it."""
    try:
        return _unseal_bytes(sealed, password, _pkcs8_associated_data(username, certificate_sha256))
    except InvalidTag:
        raise PermissionDenied(WRONG_PASSWORD.format(name=username)) from None
    except (ValueError, KeyError, TypeError) as error:
        raise IntegrityError(f"the stored certificate key of {username!r} is damaged: {error}") from None


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def new_signing_key(username: str, password: str) -> SigningKey:
    private_key = Ed25519PrivateKey.generate()
    return SigningKey(_raw_public(private_key), _seal(username, private_key, password))


def reseal_signing_key(username: str, key: SigningKey, old_password: str, new_password: str) -> SigningKey:
    """The same key pair sealed under a new password, so earlier signatures still verify."""
    private_key = _unseal(username, key, old_password)
    return SigningKey(key.public_key, _seal(username, private_key, new_password))


def sign_manifest(username: str, key: SigningKey, password: str, manifest: dict[str, Any]) -> bytes:
    """Ed25519 signature over the canonical JSON of ``manifest``; needs the signer's password."""
    return _unseal(username, key, password).sign(canonical_json(manifest))


def signer_for(username: str, key: SigningKey, password: str) -> Callable[[dict[str, Any]], bytes]:
    """Unseal the private key now (slow, on purpose) and return a quick function that signs manifests.

    Lets a service pay for the key derivation before it takes the database's write lock.
    """
    private_key = _unseal(username, key, password)
    return lambda manifest: private_key.sign(canonical_json(manifest))


def signature_is_valid(public_key: bytes, manifest: dict[str, Any], signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, canonical_json(manifest))
    except (InvalidSignature, ValueError):
        return False
    return True


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
