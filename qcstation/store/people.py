"""Users, API tokens and reviews (hashes come from the caller; the store never sees secrets)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qcstation.store.audit import add_audit
from qcstation.store.entities import ROLES
from qcstation.store.errors import Conflict, NotFound, StoreError
from qcstation.store.records import InspectionRow, ReviewRow, TokenRow, UserRow

TOKEN_TOUCH = timedelta(minutes=1)  # last_used_at is refreshed at most this often
_LABEL = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


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


def use_token(s: Session, now: datetime, token_sha256: str) -> TokenRow | None:
    row = s.scalars(select(TokenRow).where(TokenRow.token_sha256 == token_sha256)).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOKEN_TOUCH:
        row.last_used_at = now
    return row


def revoke_token(s: Session, now: datetime, token_id: int, by: str) -> None:
    row = s.get(TokenRow, token_id)
    if row is None:
        raise NotFound(f"there is no token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        add_audit(s, now, by, "token.revoke", f"token:{token_id}", None, {"name": row.name},
                  None)


def add_review(s: Session, now: datetime, inspection_id: str, user: str, verdict: str,
               note: str, defect_label: str | None) -> ReviewRow:
    if verdict not in ("pass", "fail"):
        raise StoreError(f"a review's verdict must be pass or fail, not {verdict!r}")
    if defect_label is not None and not _LABEL.match(defect_label):
        raise StoreError(f"defect label {defect_label!r} must be a lower-case word like 'hole'")
    row = s.get(InspectionRow, inspection_id, with_for_update=True)
    if row is None:
        raise NotFound(f"there is no inspection {inspection_id}")
    before = row.reviewed_verdict or row.verdict
    review = ReviewRow(inspection_id=inspection_id, user_name=user, at=now, before=before,
                       after=verdict, note=note, defect_label=defect_label)
    s.add(review)
    row.reviewed_verdict, row.reviewed_at = verdict, now
    add_audit(s, now, user, "review", f"inspection:{inspection_id}", {"verdict": before},
              {"verdict": verdict, "defect_label": defect_label}, note or None)
    return review


def set_evidence(s: Session, now: datetime, inspection_id: str, flag: bool, user: str,
                 why: str | None) -> bool:
    row = s.get(InspectionRow, inspection_id, with_for_update=True)
    if row is None:
        raise NotFound(f"there is no inspection {inspection_id}")
    before = row.evidence
    if before != flag:
        row.evidence = flag
        add_audit(s, now, user, "evidence", f"inspection:{inspection_id}",
                  {"evidence": before}, {"evidence": flag}, why)
    return before
