"""Response and request bodies of the API (apart from the store's rows)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

MAX_ID = 2**31 - 1  # database integer ids stay below this
LotId = Annotated[int, Path(ge=1, le=MAX_ID, description="the lot's id")]


class InspectionOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    created_at: str
    station: str
    lot: Any
    net_id: str | None
    verdict: Literal["pass", "fail", "error"]
    reasons: list[str]
    error: str | None
    source_name: str | None
    mesh: dict[str, Any] | None
    defects: list[dict[str, Any]]


class InspectionPage(BaseModel):
    items: list[InspectionOut]
    next: str | None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Literal["pass", "fail"]
    note: str = Field(default="", max_length=2000)
    defect_label: str | None = Field(default=None, max_length=40)


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    evidence: bool


class NetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    net_id: str = Field(min_length=1, max_length=64, pattern=r"^[\w.\-/]+$")


class LotOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    name: str
    quantity: int | None
    inspected: int
    passed: int
    failed: int


class LotList(BaseModel):
    items: list[LotOut]


class Accepted(BaseModel):
    ok: bool = True
    detail: str = ""


class NetDone(Accepted):
    net: dict[str, Any] | None = None  # the whole net's verdict, reasons and pooled mesh


class SpecIn(BaseModel):
    """The current lot's new spec: a file of the list (GET /api/station/specs) or TOML text."""

    model_config = ConfigDict(extra="forbid")
    choice: str | None = Field(default=None, max_length=200,
                               description='"uploaded/NAME.toml" or "shipped/FILE.toml"')
    toml: str | None = Field(default=None, max_length=64 * 1024,
                             description="a spec's TOML text: checked, saved, applied")


class SpecChange(BaseModel):
    lot: str
    before: dict[str, Any]
    after: dict[str, Any]
