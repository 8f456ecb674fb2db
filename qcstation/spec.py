"""Buyer specs: the TOML file of CONTRACT.md, validated with pydantic."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from .errors import SpecError
from .files import FileTooLarge, NotRegularFile, read_limited

MAX_SPEC_BYTES = 256 * 1024

# strict: a number is a number and a count a whole number in the file; a string such as "3.0"
# or a bool (read as 1) is refused, never converted
_Mm = Annotated[float, Field(strict=True, allow_inf_nan=False)]
_Count = Annotated[int, Field(strict=True, ge=0, le=100_000)]
_Text = Annotated[str, Field(strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class SpecInfo(_Strict):
    name: _Text = Field(min_length=1, max_length=80)
    buyer: _Text | None = Field(default=None, max_length=200)


class MeshSpec(_Strict):
    opening_mm: tuple[_Mm, _Mm]
    tolerance_mm: _Mm = Field(gt=0, le=20)
    quantity: Literal["opening", "pitch"] = "opening"
    min_openings: _Count = Field(default=20, ge=1)
    max_opening_mm: _Mm = Field(gt=0, le=500)
    min_strand_mm: _Mm = Field(gt=0, le=50)

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
    """How many of each type a passing net may have; a type not written may have none."""

    hole: _Count = 0
    broken_strand: _Count = 0
    irregular_mesh: _Count = 0
    thin_strand: _Count = 0
    foreign_matter: _Count = 0
    stain: _Count = 0
    loose_fibres: _Count = 0


class DefectsSpec(_Strict):
    max_count: DefectLimits


class Spec(_Strict):
    """A buyer's acceptance spec for one net type.

    `[defects.max_count]` is required: without it every defect would silently fail the net,
    which a buyer should write down rather than get by omission.
    """

    spec: SpecInfo
    mesh: MeshSpec
    defects: DefectsSpec

    @property
    def name(self) -> str:
        return self.spec.name


def parse_spec(text: str, source: str = "<spec>") -> Spec:
    """Parse and validate spec TOML text; `source` names the file in error messages."""
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some Windows editors write
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{source}: not valid TOML ({e}); fix the syntax and retry.") from None
    except ValueError as e:  # an integer of thousands of digits
        raise SpecError(f"{source}: a number is too long to read ({_short(e)}); write the "
                        "numbers as a spec needs them, e.g. tolerance_mm = 3.0.") from None
    except RecursionError:
        raise SpecError(f"{source}: arrays or tables are nested too deeply to read; a spec "
                        "needs no nesting deeper than [defects.max_count].") from None
    try:
        return Spec.model_validate(data)
    except ValidationError as e:
        raise SpecError(f"{source}: {_describe(e)}") from None


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file."""
    p = Path(path)
    try:
        text = read_limited(p, MAX_SPEC_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise SpecError(f"{p}: spec file not found; give the path of a .toml spec.") from None
    except IsADirectoryError:
        raise SpecError(f"{p}: is a folder; give the path of a .toml spec.") from None
    except UnicodeDecodeError as e:
        raise SpecError(
            f"{p}: not UTF-8 text (byte {e.start}); save the spec as UTF-8 and retry."
        ) from None
    except (NotRegularFile, FileTooLarge) as e:
        raise SpecError(f"{p}: not a spec file ({e.strerror}); give the path of a .toml "
                        "spec.") from None
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
        elif kind == "missing" and key in ("defects", "defects.max_count"):
            parts.append("missing table [defects.max_count]; write how many of each defect "
                         "type a passing net may have, e.g. hole = 0 and stain = 2")
        elif kind == "missing":
            parts.append(f"missing required key '{key}'")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            parts.append(f"key '{key}' has value {_short(err.get('input'))}: {msg}"
                         f"{_HINTS.get(kind, '')}")
    return "; ".join(parts) + "."


_HINTS = {
    "int_type": " (a whole number without quotes, e.g. 2; true and false are not counts)",
    "float_type": " (a number without quotes, e.g. 3.0)",
    "string_type": " (text in quotes)",
}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
