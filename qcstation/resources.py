"""Files shipped with qcstation (the defect model, example buyer specs).

In a source checkout or an editable install they are the repository's `models/` and `specs/`;
a regular install puts copies under `<prefix>/share/qcstation/` (pyproject data-files).
"""

from __future__ import annotations

import sys
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[1]


def shipped(relative: str) -> Path:
    """The path of a shipped file, e.g. "models/defects-v1.onnx" (the checkout's copy first)."""
    here = SOURCE_ROOT / relative
    if here.exists():
        return here
    installed = Path(sys.prefix) / "share" / "qcstation" / relative
    return installed if installed.exists() else here
