"""Password hashing (Argon2id, argon2-cffi) and the configurable password rules.

A password is checked against the rules whenever it is set, never when it is
used, so tightening the rules does not lock anyone out. Access tokens are
long random strings, so they are stored as SHA-256 digests (a slow hash buys
nothing against 256 bits of entropy and would cost every request).
"""

from __future__ import annotations

import hashlib
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from headwater.exceptions import HeadwaterError

# OWASP's baseline for Argon2id (19 MiB, 2 passes, 1 lane): about 0.1 s on a small server.
# argon2-cffi's default (64 MiB, 3 passes, 4 lanes) takes seconds on two cores, and a login
# that slow is itself a denial-of-service lever. Hashes record their parameters, so they can
# be raised later without breaking existing passwords.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
TOKEN_PREFIX = "hwt_"
_MAX_PASSWORD_LENGTH = 1024  # hashing very long inputs is a denial-of-service lever


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    if len(password) > _MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str, username: str, min_length: int, min_classes: int) -> None:
    """INVALID_PARAMETER_VALUE saying which rule ``password`` breaks."""
    if not isinstance(password, str) or not password:
        raise HeadwaterError.invalid("A password is required")
    if len(password) < min_length:
        raise HeadwaterError.invalid(f"The password must be at least {min_length} characters long")
    if len(password) > _MAX_PASSWORD_LENGTH:
        raise HeadwaterError.invalid(f"The password may be at most {_MAX_PASSWORD_LENGTH} characters long")
    classes = sum((
        any(c in string.ascii_lowercase for c in password),
        any(c in string.ascii_uppercase for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ))
    if classes < min_classes:
        raise HeadwaterError.invalid(
            f"The password must mix at least {min_classes} of: lower-case letters, upper-case letters,"
            " digits, other characters"
        )
    if username and username.lower() in password.lower():
        raise HeadwaterError.invalid("The password may not contain the username")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
