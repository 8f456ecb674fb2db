"""Specs an admin may give the current lot: uploaded ones (data_dir/specs) and shipped ones;
checked field by field, saved, and applied to the running station."""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..spec import Spec
from ..station.specfiles import choice_path, folders

logger = logging.getLogger(__name__)
MAX_SPEC_BYTES = 64 * 1024


@dataclass(frozen=True)
class SpecChoice:
    """A spec file an admin can pick: `key` ("uploaded/NAME.toml" or "shipped/FILE.toml")."""

    key: str
    name: str
    buyer: str | None
    sha256: str


class SpecRefused(ValueError):
    """A spec that cannot be used; `errors` holds (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{k}: {m}" for k, m in errors))
        self.errors = errors


def validate_spec(data: bytes) -> tuple[Spec | None, list[tuple[str, str]]]:
    """The spec, or (field, message) for each problem (spec.py's rules, one line per field)."""
    try:
        parsed = tomllib.loads(data.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError:
        return None, [("file", "not UTF-8 text; save the spec as UTF-8")]
    except tomllib.TOMLDecodeError as e:
        return None, [("file", f"not valid TOML: {e}")]
    except (ValueError, RecursionError):  # a number thousands of digits long, deep nesting
        return None, [("file", "not a spec: numbers too long or tables nested too deeply")]
    try:
        return Spec.model_validate(parsed), []
    except ValidationError as e:
        return None, [_field_error(err) for err in e.errors()]


def _field_error(err: dict) -> tuple[str, str]:
    key = ".".join(str(x) for x in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        return key, "unknown key; remove it or check its spelling"
    if err["type"] == "missing":
        return key, "missing; this key is required"
    return key, f"{err['msg'].removeprefix('Value error, ')} (found {err.get('input')!r})"


def save_upload(settings: Any, spec: Spec, data: bytes) -> Path:
    """Keeps a checked spec as data_dir/specs/<name>.toml; returns its path."""
    folder = folders(settings.station.data_dir)["uploaded"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (re.sub(r"[^\w.-]", "_", spec.name) + ".toml")
    path.write_bytes(data)
    return path


def choices(settings: Any) -> list[SpecChoice]:
    """Every valid spec file on offer, uploaded first; broken files are left out (logged)."""
    out = []
    for kind, folder in folders(settings.station.data_dir).items():
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            data = path.read_bytes()[:MAX_SPEC_BYTES + 1]
            spec, errors = validate_spec(data)
            if spec is None or len(data) > MAX_SPEC_BYTES:
                logger.warning("spec file %s left out of the choices: %s", path, errors)
                continue
            out.append(SpecChoice(f"{kind}/{path.name}", spec.name, spec.spec.buyer,
                                  hashlib.sha256(data).hexdigest()))
    return out


def read_choice(settings: Any, key: str) -> tuple[bytes, str]:
    """The bytes of the chosen spec file and a name for it; SpecRefused for an unknown key."""
    path = choice_path(settings.station.data_dir, key)
    if path is None:
        raise SpecRefused([("spec", f"no spec file {key!r}; pick one of the list")])
    data = path.read_bytes()[:MAX_SPEC_BYTES + 1]
    if len(data) > MAX_SPEC_BYTES:
        raise SpecRefused([("file", "the file is larger than 64 kB")])
    return data, key


def apply_spec(station: Any, data: bytes, *, by: str, file: str) -> dict:
    """Checks the spec's bytes and makes it the current lot's spec on the running station.
    SpecRefused (nothing changed) when the spec is not valid."""
    spec, errors = validate_spec(data)
    if spec is None:
        raise SpecRefused(errors)
    return station.set_spec(spec, hashlib.sha256(data).hexdigest(), by=by, file=file)
