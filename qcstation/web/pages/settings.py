"""The admin's settings page: the spec (upload, validated per field), calibration, camera, users."""

from __future__ import annotations

import logging
import re
import tomllib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from pydantic import ValidationError

from ...calibration_io import load_calibration
from ...errors import CalibrationError, SpecError
from ...spec import Spec, load_spec
from ..deps import AdminUser, CsrfForm, StoreDep
from ..i18n import Formatter, choose_lang, translations
from ..render import render

logger = logging.getLogger(__name__)
router = APIRouter()
MAX_SPEC_BYTES = 64 * 1024


@router.get("/settings")
def settings_page(request: Request, store: StoreDep, who: AdminUser):
    return _page(request, store)


@router.post("/settings/spec", dependencies=[CsrfForm])
async def upload_spec(request: Request, store: StoreDep, who: AdminUser,
                      file: Annotated[UploadFile, File()]):
    """A spec file: refused when too big or invalid (one error per field); else kept."""
    _ = translations(choose_lang(request)).gettext
    data = await file.read(MAX_SPEC_BYTES + 1)
    if len(data) > MAX_SPEC_BYTES:
        return _page(request, store, 413, errors=[("file", _("The file is larger than 64 kB."))])
    spec, errors = validate_spec(data)
    if errors:
        return _page(request, store, 422, errors=errors)
    folder = request.app.state.settings.station.data_dir / "specs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (re.sub(r"[^\w.-]", "_", spec.name) + ".toml")
    path.write_bytes(data)
    logger.info("%s uploaded spec %s to %s", who.name, spec.name, path)
    return _page(request, store, ok=_("Spec {name} is valid and saved as {path}.").format(
        name=spec.name, path=path))


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


def _page(request: Request, store, status: int = 200, errors=None, ok=None):
    settings = request.app.state.settings
    lang = choose_lang(request)
    _ = translations(lang).gettext
    try:
        spec, spec_error = load_spec(settings.inspection.spec), None
    except SpecError as e:
        spec, spec_error = None, str(e)
    return render(request, "settings.html", status_code=status, spec=spec,
                  spec_error=spec_error, upload_errors=errors, upload_ok=ok,
                  calibration=_calibration_line(settings, _, Formatter(lang)),
                  gauge=_gauge_line(request.app, _, Formatter(lang)),
                  camera=settings.source.model_dump(mode="json"), users=store.users())


def _calibration_line(settings, _, fmt) -> str:
    try:
        cal = load_calibration(settings.inspection.calibration)
    except CalibrationError as e:
        return str(e)
    return _("{path}: made {date}, {mm} mm per pixel, RMS error {rms} px").format(
        path=settings.inspection.calibration.name, date=fmt.dt(_as_dt(cal.created)),
        mm=fmt.num(cal.mm_per_px, 3), rms=fmt.num(cal.rms_px, 2))


def _gauge_line(app, _, fmt) -> str:
    station = app.state.station
    gauge = getattr(station, "gauge_check", None) if station is not None else None
    if not gauge:
        return _("No gauge check recorded yet.")
    return _("Bias {bias} mm, checked {date}").format(bias=fmt.num(gauge["bias_mm"], 2),
                                                      date=fmt.dt(gauge["checked_at"]))


def _as_dt(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
