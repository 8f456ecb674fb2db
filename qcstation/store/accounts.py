"""Users and API tokens (hashes come from the caller: the store never sees a secret)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qcstation.store.audit import add_audit
from qcstation.store.entities import ROLES, ApiToken, User
from qcstation.store.errors import Conflict, NotFound, StoreError
from qcstation.store.queries import to_token, to_user
from qcstation.store.records import TokenRow, UserRow

TOKEN_TOUCH = timedelta(minutes=1)  # last_used_at is refreshed at most this often
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class AccountsMixin:
    """The Store's methods for users and tokens (`by` names who made the change)."""

    def add_user(self, name: str, role: str, password_hash: str, *, by: str = "system") -> User:
        with self._session(write=True) as s:
            return to_user(add_user(s, _now(), name, role, password_hash, by))

    def user(self, name: str) -> User | None:
        with self._session() as s:
            row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
            return to_user(row) if row else None

    def users(self) -> list[User]:
        with self._session() as s:
            return [to_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def set_password(self, name: str, password_hash: str, *, by: str = "system") -> None:
        with self._session(write=True) as s:
            set_password(s, _now(), name, password_hash, by)

    def set_role(self, name: str, role: str, *, by: str = "system") -> None:
        with self._session(write=True) as s:
            set_role(s, _now(), name, role, by)

    def add_token(self, name: str, role: str, token_sha256: str, *,
                  by: str = "system") -> ApiToken:
        with self._session(write=True) as s:
            return to_token(add_token(s, _now(), name, role, token_sha256, by))

    def token(self, token_sha256: str) -> ApiToken | None:
        """The live (not revoked) token with this hash; notes when it was last used."""
        now = _now()
        with self._session() as s:
            row = s.scalars(select(TokenRow).where(TokenRow.token_sha256 == token_sha256)).first()
            if row is None or row.revoked_at is not None:
                return None
            if row.last_used_at is not None and now - row.last_used_at < TOKEN_TOUCH:
                return to_token(row)  # a read only: most requests write nothing
        with self._session(write=True) as s:
            row = s.get(TokenRow, row.id)
            if row is None or row.revoked_at is not None:
                return None
            row.last_used_at = now
            return to_token(row)

    def tokens(self) -> list[ApiToken]:
        with self._session() as s:
            return [to_token(r) for r in s.scalars(select(TokenRow).order_by(TokenRow.id))]

    def revoke_token(self, token_id: int, *, by: str = "system") -> None:
        with self._session(write=True) as s:
            revoke_token(s, _now(), token_id, by)


def _now() -> datetime:
    return datetime.now(UTC)


def check_role(role: str) -> None:
    if role not in ROLES:
        raise StoreError(f"role {role!r} is not one of {', '.join(ROLES)}")


def add_user(s: Session, now: datetime, name: str, role: str, password_hash: str,
             by: str) -> UserRow:
    check_role(role)
    name = name.strip()
    if not name or len(name) > 100:
        raise StoreError("a user name must have 1 to 100 characters")
    row = UserRow(name=name, role=role, password_hash=password_hash, created_at=now)
    try:
        with s.begin_nested():
            s.add(row)
    except IntegrityError as exc:
        raise Conflict(f"a user named {name!r} exists already") from exc
    add_audit(s, now, by, "user.add", f"user:{name}", None, {"role": role}, None)
    return row


def user_row(s: Session, name: str) -> UserRow:
    row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
    if row is None:
        raise NotFound(f"there is no user named {name!r}")
    return row


def set_password(s: Session, now: datetime, name: str, password_hash: str, by: str) -> None:
    user_row(s, name).password_hash = password_hash
    add_audit(s, now, by, "user.password", f"user:{name}", None, None, None)


def set_role(s: Session, now: datetime, name: str, role: str, by: str) -> None:
    check_role(role)
    row = user_row(s, name)
    before, row.role = row.role, role
    add_audit(s, now, by, "user.role", f"user:{name}", {"role": before}, {"role": role}, None)


def add_token(s: Session, now: datetime, name: str, role: str, token_sha256: str,
              by: str) -> TokenRow:
    check_role(role)
    if not _SHA256.match(token_sha256):
        raise StoreError("a token must be stored as its sha256 in lower-case hex")
    row = TokenRow(name=name, role=role, token_sha256=token_sha256, created_at=now,
                   last_used_at=None, revoked_at=None)
    try:
        with s.begin_nested():
            s.add(row)
    except IntegrityError as exc:
        raise Conflict("this token exists already") from exc
    add_audit(s, now, by, "token.add", f"token:{row.id}", None, {"name": name, "role": role},
              None)
    return row


def revoke_token(s: Session, now: datetime, token_id: int, by: str) -> None:
    row = s.get(TokenRow, token_id)
    if row is None:
        raise NotFound(f"there is no token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        add_audit(s, now, by, "token.revoke", f"token:{token_id}", None, {"name": row.name},
                  None)
