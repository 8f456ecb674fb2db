"""The audit log: who changed what, when and why, written in the change's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from qcstation.store.records import AuditRow


def add_audit(s: Session, at: datetime, who: str, action: str, entity: str,
              before: dict[str, Any] | None, after: dict[str, Any] | None,
              why: str | None) -> AuditRow:
    row = AuditRow(at=at, who=who, action=action, entity=entity, before=before, after=after,
                   why=why)
    s.add(row)
    s.flush()
    return row
