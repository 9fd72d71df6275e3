"""Secrets: password hashes, bearer tokens, CSRF tokens, the first-run setup link."""

from __future__ import annotations

import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
SETUP_LINK_SECONDS = 7 * 24 * 3600
API_TOKEN_PREFIX = "hsu_"


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches; never raises for a wrong one."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > 1024:
        return "Use at most 1024 characters."
    return None


def new_token(prefix: str = "") -> str:
    """A random bearer secret (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def looks_like_token(value: str | None) -> bool:
    """Whether a bearer secret has the shape new_token() gives (so nobody picks a short, guessable one)."""
    return (
        value is not None
        and 40 <= len(value) <= 100
        and value.isascii()
        and all(ch.isalnum() or ch in "-_" for ch in value)
    )


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode(), b.encode())


def setup_token(secret_key: str) -> str:
    """The token of the one-time setup link; it works only while the server has no accounts."""
    return URLSafeTimedSerializer(secret_key, salt="handsup.setup").dumps("first-admin")


def setup_token_valid(secret_key: str, token: str) -> bool:
    try:
        URLSafeTimedSerializer(secret_key, salt="handsup.setup").loads(token, max_age=SETUP_LINK_SECONDS)
    except BadSignature:
        return False
    return True
