"""Alembic migrations of the qcstation database (run by Store.open; no alembic.ini needed)."""
