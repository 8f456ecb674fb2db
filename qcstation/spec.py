"""Buyer specs: the TOML file of CONTRACT.md, validated with pydantic."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from .errors import SpecError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class SpecInfo(_Strict):
    name: str = Field(min_length=1, max_length=80)
    buyer: str | None = None


class MeshSpec(_Strict):
    opening_mm: tuple[float, float]
    tolerance_mm: float = Field(gt=0, le=20)
    quantity: Literal["opening", "pitch"] = "opening"
    min_openings: int = Field(default=20, ge=1, le=100_000)
    max_opening_mm: float = Field(gt=0, le=500)
    min_strand_mm: float = Field(gt=0, le=50)

    # field validators, not a model validator, so that the error names the key at fault
    @field_validator("opening_mm")
    @classmethod
    def _opening_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        for x in v:
            if not 1.0 <= x <= 200.0:
                raise ValueError(f"opening_mm values must lie in 1..200 mm, got {x}")
        return v

    @field_validator("max_opening_mm")
    @classmethod
    def _above_nominal(cls, v: float, info: ValidationInfo) -> float:
        nominal = info.data.get("opening_mm")  # absent when opening_mm itself is invalid
        if nominal is not None and v <= max(nominal):
            raise ValueError(
                f"max_opening_mm must be larger than the nominal opening_mm {max(nominal)}"
            )
        return v


class DefectLimits(_Strict):
    hole: int = Field(default=0, ge=0)
    broken_strand: int = Field(default=0, ge=0)
    irregular_mesh: int = Field(default=0, ge=0)
    thin_strand: int = Field(default=0, ge=0)
    foreign_matter: int = Field(default=0, ge=0)
    stain: int = Field(default=0, ge=0)
    loose_fibres: int = Field(default=0, ge=0)


class DefectsSpec(_Strict):
    max_count: DefectLimits = DefectLimits()


class Spec(_Strict):
    """A buyer's acceptance spec for one net type."""

    spec: SpecInfo
    mesh: MeshSpec
    defects: DefectsSpec = DefectsSpec()

    @property
    def name(self) -> str:
        return self.spec.name


def parse_spec(text: str, source: str = "<spec>") -> Spec:
    """Parse and validate spec TOML text; `source` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{source}: not valid TOML ({e}); fix the syntax and retry.") from None
    try:
        return Spec.model_validate(data)
    except ValidationError as e:
        raise SpecError(f"{source}: {_describe(e)}") from None


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{p}: spec file not found; give the path of a .toml spec.") from None
    except IsADirectoryError:
        raise SpecError(f"{p}: is a folder; give the path of a .toml spec.") from None
    except UnicodeDecodeError as e:
        raise SpecError(
            f"{p}: not UTF-8 text (byte {e.start}); save the spec as UTF-8 and retry."
        ) from None
    except OSError as e:
        raise SpecError(f"{p}: cannot read the spec file ({e.strerror or e}).") from None
    return parse_spec(text, str(p))


def _describe(e: ValidationError) -> str:
    """One sentence per problem: the key, the value found and what was expected."""
    parts = []
    for err in e.errors():
        key = ".".join(str(x) for x in err["loc"]) or "(top level)"
        kind = err["type"]
        if kind == "extra_forbidden":
            parts.append(f"unknown key '{key}'; remove it or check its spelling")
        elif kind == "missing":
            parts.append(f"missing required key '{key}'")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            parts.append(f"key '{key}' has value {err.get('input')!r}: {msg}")
    return "; ".join(parts) + "."
