"""The station's settings: station.toml (CONTRACT.md), validated before anything opens."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import QCError


class SettingsError(QCError):
    """The station's settings file is missing, unreadable or invalid."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StationInfo(_Section):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    data_dir: Path = Path("data")


class UsbSource(_Section):
    type: Literal["usb"]
    device: int | str = 0  # index or device path (/dev/video0)
    width: int | None = Field(default=None, ge=16, le=16384)
    height: int | None = Field(default=None, ge=16, le=16384)
    fps: float | None = Field(default=None, gt=0, le=240)
    exposure: float | None = None  # in the camera driver's units, where it allows


class StreamSource(_Section):
    type: Literal["stream"]
    url: str = Field(min_length=1)


class VideoSource(_Section):
    type: Literal["video"]
    file: Path
    loop: bool = False
    fps: float | None = Field(default=None, gt=0, le=240)  # replay rate; default: the file's


class FolderSource(_Section):
    type: Literal["folder"]
    path: Path
    poll_s: float = Field(default=0.5, gt=0, le=60)
    stable_s: float = Field(default=0.5, ge=0, le=60)  # a file unchanged this long is complete


class SimulatedSource(_Section):
    type: Literal["simulated"]
    seed: int = 3
    width: int = Field(default=1600, ge=320, le=8192)
    height: int = Field(default=1200, ge=240, le=8192)
    fps: float = Field(default=10.0, gt=0, le=120)
    nets: int | None = Field(default=None, ge=1)  # stop after this many nets (tests, CI)


SourceSettings = Annotated[
    UsbSource | StreamSource | VideoSource | FolderSource | SimulatedSource,
    Field(discriminator="type"),
]


class TriggerSettings(_Section):
    mode: Literal["auto", "manual"] = "auto"
    settle_s: float = Field(default=0.6, ge=0, le=30)


class InspectionSettings(_Section):
    spec: Path
    calibration: Path
    model: Path | None = None  # default: the shipped model
    threads: int | None = Field(default=None, ge=1, le=256)  # per inspection; default: all cores


class StorageSettings(_Section):
    url: str = ""  # default: SQLite in data_dir

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if v and not re.match(r"^(sqlite|postgresql)(\+\w+)?://", v):
            raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
        return v


class RetentionSettings(_Section):
    thin_passes_after_days: float | None = Field(default=None, gt=0)  # None: keep every image


class LotSettings(_Section):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    quantity: int | None = Field(default=None, ge=1, le=10_000_000)
    buyer: str | None = None
    sampling: Literal["all", "iso2859-1"] = "all"
    level: Literal["I", "II", "III", "S-1", "S-2", "S-3", "S-4"] = "II"
    aql: float = Field(default=2.5, gt=0, le=1000)
    seed: int | None = None  # which net numbers are drawn; default: from the lot name


class MqttSettings(_Section):
    url: str = "mqtt://127.0.0.1:1883"
    queue: int = Field(default=1000, ge=1, le=1_000_000)  # results held while the broker is away

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, v: str) -> str:
        if not re.match(r"^mqtts?://[^/:]+(:\d+)?/?$", v):
            raise ValueError("expected mqtt://HOST[:PORT]")
        return v


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    preview_width: int = Field(default=960, ge=160, le=4096)  # live view, px


class StationSettings(_Section):
    """Everything one station needs, as the settings file says (paths already absolute)."""

    station: StationInfo
    source: SourceSettings
    trigger: TriggerSettings = TriggerSettings()
    inspection: InspectionSettings
    storage: StorageSettings = StorageSettings()
    retention: RetentionSettings = RetentionSettings()
    lot: LotSettings = LotSettings()
    mqtt: MqttSettings | None = None
    web: WebSettings = WebSettings()

    @property
    def storage_url(self) -> str:
        return self.storage.url or f"sqlite:///{self.station.data_dir / 'qcstation.db'}"


def parse_settings(text: str, source: str = "<settings>", base: Path | None = None
                   ) -> StationSettings:
    """Parse and validate station.toml text; relative paths are taken from `base`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{source}: not valid TOML ({e}); fix the syntax and retry.") from None
    try:
        settings = StationSettings.model_validate(data)
    except ValidationError as e:
        raise SettingsError(f"{source}: {_describe(e)}") from None
    return resolve_paths(settings, base or Path.cwd())


def load_settings(path: str | Path) -> StationSettings:
    """Read and validate a station settings file; paths in it are relative to its folder."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"{p}: settings file not found; give station.toml's path.") from None
    except IsADirectoryError:
        raise SettingsError(f"{p}: is a folder; give the path of station.toml.") from None
    except UnicodeDecodeError as e:
        raise SettingsError(f"{p}: not UTF-8 text (byte {e.start}); save it as UTF-8.") from None
    except OSError as e:
        raise SettingsError(f"{p}: cannot read the settings ({e.strerror or e}).") from None
    return parse_settings(text, str(p), p.resolve().parent)


def resolve_paths(s: StationSettings, base: Path) -> StationSettings:
    """The same settings with every relative path (and a relative SQLite URL) under `base`."""

    def at(p: Path | None) -> Path | None:
        return None if p is None else (p if p.is_absolute() else base / p)

    source = s.source
    if isinstance(source, VideoSource):
        source = source.model_copy(update={"file": at(source.file)})
    elif isinstance(source, FolderSource):
        source = source.model_copy(update={"path": at(source.path)})
    ins = s.inspection.model_copy(update={
        "spec": at(s.inspection.spec), "calibration": at(s.inspection.calibration),
        "model": at(s.inspection.model)})
    url = s.storage.url
    m = re.match(r"^(sqlite(\+\w+)?:///)(.+)$", url)
    if m and m.group(3) != ":memory:" and not Path(m.group(3)).is_absolute():
        url = m.group(1) + str(base / m.group(3))
    return s.model_copy(update={
        "station": s.station.model_copy(update={"data_dir": at(s.station.data_dir)}),
        "source": source, "inspection": ins,
        "storage": s.storage.model_copy(update={"url": url})})


def _describe(e: ValidationError) -> str:
    """One sentence per problem: the key, the value found and what was expected."""
    parts = []
    for err in e.errors():
        # the discriminated union puts the chosen type's tag in the path: drop it
        loc = [str(x) for x in err["loc"]]
        if len(loc) >= 2 and loc[0] == "source" and loc[1] in _SOURCE_TYPES:
            loc.pop(1)
        key = ".".join(loc) or "(top level)"
        kind = err["type"]
        if kind == "extra_forbidden":
            parts.append(f"unknown key '{key}'; remove it or check its spelling")
        elif kind == "missing":
            parts.append(f"missing required key '{key}'")
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            parts.append(f"key '{key}.type' has value {_tag(err)!r}: expected one of "
                         f"{', '.join(repr(t) for t in _SOURCE_TYPES)}")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            parts.append(f"key '{key}' has value {err.get('input')!r}: {msg}")
    return "; ".join(parts) + "."


_SOURCE_TYPES = ("usb", "stream", "video", "folder", "simulated")


def _tag(err: dict) -> object:
    value = err.get("input")
    return value.get("type") if isinstance(value, dict) else value
