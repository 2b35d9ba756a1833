"""What one electronic signature costs, next to OpenSSL's own Ed25519 speed on the same machine.

Signing asks for the password twice on purpose (argon2id check, then scrypt to unseal the key), so a
signature costs a few tenths of a second, almost all of it key derivation; checking one in
``signoff verify`` costs only the Ed25519 verification. Run: ``python benchmarks/signing.py``.
"""

from __future__ import annotations

import re
import subprocess
import time

from signoff.services.security import (
    hash_password,
    new_signing_key,
    password_matches,
    sign_manifest,
    signature_is_valid,
    signer_for,
)

MANIFEST = {
    "format": "signoff.review-signature/1",
    "review_id": 1,
    "bundle_hash": "a" * 64,
    "meaning": "approved",
}


def timed(label: str, action, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        action()
    seconds = (time.perf_counter() - start) / repeat
    print(f"{label:<46} {seconds * 1000:9.3f} ms")
    return seconds


def openssl_ed25519() -> tuple[float, float] | None:
    try:
        out = subprocess.run(
            ["openssl", "speed", "-seconds", "1", "ed25519"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    # "... (Ed25519)   0.0001s   0.0001s  20000.0   7761.7": the operations per second are the precise part.
    match = re.search(r"Ed25519\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out)
    return (1 / float(match.group(1)), 1 / float(match.group(2))) if match else None


def main() -> None:
    password = "a long enough password"
    stored = hash_password(password)
    key = new_signing_key("bench", password)
    signature = sign_manifest("bench", key, password, MANIFEST)
    sign = signer_for("bench", key, password)
    timed("argon2id hash (account creation, new password)", lambda: hash_password(password), 5)
    timed("argon2id verify (sign-in, re-authentication)", lambda: password_matches(stored, password), 5)
    timed("scrypt + AES-GCM unseal of the private key", lambda: signer_for("bench", key, password), 5)
    ours_sign = timed("Ed25519 sign of a canonical manifest", lambda: sign(MANIFEST), 2000)
    ours_verify = timed(
        "Ed25519 verify (per signature in signoff verify)",
        lambda: signature_is_valid(key.public_key, MANIFEST, signature),
        2000,
    )
    reference = openssl_ed25519()
    if reference is not None:
        print(f"{'openssl speed ed25519: sign':<46} {reference[0] * 1000:9.3f} ms")
        print(f"{'openssl speed ed25519: verify':<46} {reference[1] * 1000:9.3f} ms")
        print(
            f"overhead over raw OpenSSL: sign x{ours_sign / reference[0]:.1f}, verify x{ours_verify / reference[1]:.1f}"
        )


if __name__ == "__main__":
    main()
