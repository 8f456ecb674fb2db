"""Spec files a lot can be switched to (data_dir/specs, the shipped specs/) and, at a restart,
the spec an admin gave the lot, found again from the audit log and checked by its sha256."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..resources import shipped
from ..spec import Spec, load_spec

logger = logging.getLogger(__name__)
_KEY = re.compile(r"^(uploaded|shipped)/([\w.-]{1,120}\.toml)$")


def folders(data_dir: Path) -> dict[str, Path]:
    return {"uploaded": Path(data_dir) / "specs", "shipped": shipped("specs")}


def choice_path(data_dir: Path, key: str | None) -> Path | None:
    """The file of "uploaded/NAME.toml" or "shipped/FILE.toml"; None for any other key (no
    path outside the two folders can be named) or a missing file."""
    m = _KEY.match(key or "")
    path = folders(data_dir)[m[1]] / m[2] if m else None
    return path if path is not None and path.is_file() else None


def restore(store: Any, lot_id: int, lot_spec: str | None, data_dir: Path
            ) -> tuple[Spec, str] | None:
    """The spec (and sha256) last given to the lot on the settings page, when its file is
    still there unchanged; None when the lot was never switched or the file is gone."""
    entry = next((a for a in store.audit(entity=f"lot:{lot_id}", limit=200)
                  if a.action == "lot.spec"), None)
    after = (entry.after or {}) if entry else {}
    if entry is None or after.get("spec") != lot_spec:
        return None
    path = choice_path(data_dir, after.get("file"))
    if path is None:
        logger.warning("lot %s was judged against %s, whose file %s is gone; the settings' "
                       "spec is used", lot_id, lot_spec, after.get("file"))
        return None
    try:
        spec, sha = load_spec(path), hashlib.sha256(path.read_bytes()).hexdigest()
    except (SpecError, OSError) as e:
        logger.warning("lot %s: its spec file cannot be used (%s); the settings' spec is used",
                       lot_id, e)
        return None
    if sha != after.get("sha256") or spec.name != lot_spec:
        logger.warning("lot %s: %s has changed since it was chosen; the settings' spec is used",
                       lot_id, path)
        return None
    return spec, sha
