"""The admin's settings page: the lot's spec (upload, validated per field; choose one for the
current lot), calibration and gauge check, camera, users."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile

from ...calibration_io import load_calibration
from ...errors import CalibrationError, SpecError
from ...spec import load_spec
from ...store import StoreError
from ..auth import MIN_PASSWORD, ROLES, hash_password, usable_user_name
from ..deps import AdminUser, CsrfForm, StoreDep
from ..i18n import Formatter, choose_lang, translations
from ..render import render
from ..specs import MAX_SPEC_BYTES, SpecRefused, apply_spec, choices, read_choice, save_upload
from ..specs import validate_spec as validate_spec
from ..status import gauge_check, station_calibration

logger = logging.getLogger(__name__)
router = APIRouter()


@router.get("/settings")
def settings_page(request: Request, store: StoreDep, who: AdminUser):
    return _page(request, store)


@router.post("/settings/spec", dependencies=[CsrfForm])
async def upload_spec(request: Request, store: StoreDep, who: AdminUser,
                      file: Annotated[UploadFile, File()],
                      apply: Annotated[str | None, Form()] = None):
    """A spec file: refused when too big or invalid (one error per field); else kept, and
    with `apply` made the current lot's spec."""
    _ = translations(choose_lang(request)).gettext
    data = await file.read(MAX_SPEC_BYTES + 1)
    if len(data) > MAX_SPEC_BYTES:
        return _page(request, store, 413, errors=[("file", _("The file is larger than 64 kB."))])
    spec, errors = validate_spec(data)
    if errors:
        return _page(request, store, 422, errors=errors)
    path = save_upload(request.app.state.settings, spec, data)
    logger.info("%s uploaded spec %s to %s", who.name, spec.name, path)
    ok = _("Spec {name} is valid and saved as {path}.").format(name=spec.name, path=path)
    if apply:
        return _use(request, store, who, data, f"uploaded/{path.name}", ok)
    return _page(request, store, ok=ok)


@router.post("/settings/spec/use", dependencies=[CsrfForm])
def use_spec(request: Request, store: StoreDep, who: AdminUser,
             choice: Annotated[str, Form(max_length=200)]):
    """Makes a spec of the list the current lot's spec on the running station."""
    try:
        data, file = read_choice(request.app.state.settings, choice)
    except SpecRefused as e:
        return _page(request, store, 422, errors=e.errors)
    return _use(request, store, who, data, file, None)


@router.post("/settings/users", dependencies=[CsrfForm])
def add_user(request: Request, store: StoreDep, who: AdminUser,
             name: Annotated[str, Form(max_length=200)] = "",
             role: Annotated[str, Form(max_length=40)] = "",
             password: Annotated[str, Form(max_length=1000)] = "",
             again: Annotated[str, Form(max_length=1000)] = ""):
    """A new user of the web view (audited as `user.add` by the admin); nothing is stored when
    a field is wrong."""
    _ = translations(choose_lang(request)).gettext
    errors = []
    if not usable_user_name(name):
        errors.append(("name", _("Give a user name of 1 to 100 characters without spaces.")))
    if role not in ROLES:
        errors.append(("role", _("Choose one of the roles.")))
    if len(password) < MIN_PASSWORD:
        errors.append(("password", _("The password needs at least {n} characters.").format(
            n=MIN_PASSWORD)))
    elif password != again:
        errors.append(("again", _("The two passwords differ.")))
    if not errors and store.user(name) is not None:
        errors.append(("name", _("A user named {name} exists already.").format(name=name)))
    if errors:
        return _page(request, store, 422, user_errors=errors)
    try:
        store.add_user(name, role, hash_password(password), by=who.name)
    except StoreError as e:  # another admin added the same name meanwhile
        return _page(request, store, 409, user_errors=[("name", str(e))])
    logger.info("%s added %s %s", who.name, role, name)
    return _page(request, store, user_ok=_("Added {role} {name}.").format(role=_(role),
                                                                          name=name))


def _use(request: Request, store, who, data: bytes, file: str, ok: str | None):
    _ = translations(choose_lang(request)).gettext
    station = request.app.state.station
    if station is None:
        return _page(request, store, 503, ok=ok, errors=[("station", _(
            "No camera station runs in this web view; start it with qcstation serve."))])
    try:
        change = apply_spec(station, data, by=who.name, file=file)
    except SpecRefused as e:
        return _page(request, store, 422, ok=ok, errors=e.errors)
    except StoreError as e:
        return _page(request, store, 409, ok=ok, errors=[("lot", str(e))])
    done = _("Lot {lot} is now judged against spec {name}.").format(
        lot=change["lot"], name=change["after"]["spec"])
    return _page(request, store, ok=" ".join(filter(None, (ok, done))))


def _page(request: Request, store, status: int = 200, errors=None, ok=None, user_errors=None,
          user_ok=None):
    settings = request.app.state.settings
    lang = choose_lang(request)
    _ = translations(lang).gettext
    spec, spec_error, sha256 = None, None, None
    if request.app.state.station is not None:
        spec, sha256 = request.app.state.station.current_spec()
    else:
        try:
            spec = load_spec(settings.inspection.spec)
        except SpecError as e:
            spec_error = str(e)
    fmt = Formatter(lang)
    return render(request, "settings.html", status_code=status, spec=spec, spec_sha256=sha256,
                  spec_error=spec_error, upload_errors=errors, upload_ok=ok,
                  spec_choices=choices(settings),
                  running=request.app.state.station is not None,
                  calibration=_calibration_line(settings, _, fmt),
                  gauge=gauge_lines(gauge_check(station_calibration(request.app)), _, fmt),
                  camera=settings.source.model_dump(mode="json"), users=store.users(),
                  roles=ROLES, user_errors=user_errors, user_ok=user_ok)


def _calibration_line(settings, _, fmt) -> str:
    try:
        cal = load_calibration(settings.inspection.calibration)
    except CalibrationError as e:
        return str(e)
    return _("{path}: made {date}, {mm} mm per pixel, RMS error {rms} px").format(
        path=settings.inspection.calibration.name, date=fmt.dt(_as_dt(cal.created)),
        mm=fmt.num(cal.mm_per_px, 3), rms=fmt.num(cal.rms_px, 2))


def gauge_lines(gauge: dict | None, _, fmt) -> list[str]:
    """The gauge check in words: bias, spread, repeatability (across / along) and its date."""
    if not gauge:
        return [_("No gauge check recorded yet.")]

    def pair(v: dict | None) -> str:
        return "–" if v is None else f"{fmt.num(v['w'], 2)} / {fmt.num(v['h'], 2)} mm"

    when = fmt.dt(_as_dt(gauge["checked_at"])) if gauge["checked_at"] else gauge["note"] or "–"
    return [_("Bias (station minus calipers, across / along): {v}").format(
                v=pair(gauge["bias_mm"])),
            _("Spread of the differences (std): {v}").format(v=pair(gauge["spread_mm"])),
            _("Repeatability of the mean opening (std): {v}").format(
                v=pair(gauge["repeatability_mm"])),
            _("Checked: {date}").format(date=when)]


def _as_dt(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
