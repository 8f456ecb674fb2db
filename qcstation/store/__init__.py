"""Records and storage: the one module that touches the database and the image files.

`Store.open(url, data_dir)` creates or migrates the schema (Alembic), checks the image folder and
hands out frozen records (`InspectionRecord`, `Lot`, `LotSummary`, `Review`, `AuditEntry`, `User`,
`ApiToken`). SQLite in WAL mode is the embedded default; PostgreSQL by URL for several stations.
"""

from qcstation.store.entities import (
    ROLES,
    ApiToken,
    AuditEntry,
    InspectionRecord,
    Lot,
    LotSummary,
    ReconcileReport,
    Review,
    User,
)
from qcstation.store.errors import Conflict, NotFound, StoreError, StoreFull
from qcstation.store.store import Store

__all__ = [
    "ROLES", "ApiToken", "AuditEntry", "Conflict", "InspectionRecord", "Lot", "LotSummary",
    "NotFound", "ReconcileReport", "Review", "Store", "StoreError", "StoreFull", "User",
]
