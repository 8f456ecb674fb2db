"""Users, roles, passwords (argon2), API tokens (sha256), CSRF tokens and the login rate limit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("inspector", "supervisor", "admin")  # each role has the rights of the ones before it
MIN_PASSWORD = 8  # characters of a new user's password (the CLI and the settings page)
_hasher = PasswordHasher()
# verified against when the user does not exist, so a wrong name costs as long as a wrong password
_DUMMY_HASH = _hasher.hash("no user has this password")


@dataclass(frozen=True)
class Principal:
    """Who makes a request: a signed-in user or an API token."""

    name: str
    role: str
    via: str  # "session" or "token"

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    return role


def usable_user_name(name: str) -> bool:
    """1 to 100 printable characters without spaces (a sign-in name)."""
    return 1 <= len(name) <= 100 and name.isprintable() and " " not in name


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return "qcs_" + secrets.token_urlsafe(32)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)


class LoginLimiter:
    """Failed logins within `window_s`: at most `attempts` per key; keys starting "ip:" (a
    client address, which a bench's users share) get `address_attempts`."""

    def __init__(self, attempts: int = 5, window_s: float = 300.0, address_attempts: int = 20):
        self.attempts, self.window_s, self.address_attempts = attempts, window_s, address_attempts
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self._limit(k) for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)

    def _limit(self, key: str) -> int:
        return self.address_attempts if key.startswith("ip:") else self.attempts

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q
