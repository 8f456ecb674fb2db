"""Security of the web view: roles on every route, CSRF, image paths, login rate limit."""

from __future__ import annotations

import httpx
import pytest
from fastapi.routing import APIRoute
from webutil import (
    PASSWORDS,
    Server,
    api_token,
    csrf_of,
    fill_store,
    load,
    login,
    open_store,
    write_settings,
)

from qcstation.web.auth import ROLES

# every route that changes something, with the least role allowed to call it
WRITE_ROUTES = {
    ("POST", "/api/trigger"): "inspector",
    ("POST", "/api/nets/current"): "inspector",
    ("POST", "/api/nets/current/finish"): "inspector",
    ("POST", "/api/inspections/{inspection_id}/review"): "supervisor",
    ("POST", "/api/inspections/{inspection_id}/evidence"): "supervisor",
    ("POST", "/bench/net"): "inspector",
    ("POST", "/bench/trigger"): "inspector",
    ("POST", "/inspections/{inspection_id}/review"): "supervisor",
    ("POST", "/settings/spec"): "admin",
    ("POST", "/settings/spec/use"): "admin",
    ("POST", "/settings/users"): "admin",
    ("POST", "/api/station/spec"): "admin",
    ("POST", "/login"): None,
    ("POST", "/logout"): None,
}
READ_ROLES = {"/api/lots/{lot_id}": "supervisor", "/api/lots/{lot_id}/report.csv": "supervisor",
              "/api/lots/{lot_id}/certificate.pdf": "supervisor",
              "/api/reviews/queue": "supervisor", "/api/audit": "supervisor",
              "/api/station/specs": "admin"}
BODIES = {"/api/nets/current": {"net_id": "N-1"},
          "/api/inspections/{inspection_id}/review": {"verdict": "pass", "note": "ok"},
          "/api/inspections/{inspection_id}/evidence": {"evidence": True},
          "/api/station/spec": {"choice": "shipped/kr-coirnet-20.toml"}}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("websec")
    settings = load(write_settings(tmp))
    store = open_store(settings)
    data = fill_store(store)
    tokens = {role: api_token(store, role) for role in ROLES}
    with Server(settings, None, store) as server:
        yield {"url": server.url, "app": server.app, "tokens": tokens, **data}
    store.close()


def api_routes(routes):
    for r in routes:  # FastAPI keeps included routers as branches of the route tree
        if isinstance(r, APIRoute):
            yield r
        elif hasattr(r, "original_router"):
            yield from api_routes(r.original_router.routes)


def routes(app, prefix: str = "") -> list[tuple[str, str]]:
    found = sorted((m, r.path) for r in api_routes(app.routes)
                   for m in r.methods if m != "HEAD" and r.path.startswith(prefix))
    assert found, "no routes found"
    return found


def fill(path: str, site) -> str:
    return path.replace("{inspection_id}", site["ids"][2]).replace("{lot_id}", str(site["lot"]))


def test_every_write_route_is_in_the_role_table(site):
    writes = {(m, p) for m, p in routes(site["app"]) if m != "GET"}
    assert writes == set(WRITE_ROUTES)


def test_every_api_route_needs_a_login(site):
    for method, path in routes(site["app"], "/api"):
        r = httpx.request(method, site["url"] + fill(path, site), json=BODIES.get(path))
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers["www-authenticate"] == "Bearer"


def test_unknown_token_is_401(site):
    r = httpx.get(site["url"] + "/api/inspections", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_api_routes_refuse_lower_roles(site, role):
    headers = {"Authorization": f"Bearer {site['tokens'][role]}"}
    for method, path in routes(site["app"], "/api"):
        need = WRITE_ROUTES.get((method, path)) or READ_ROLES.get(path, "inspector")
        r = httpx.request(method, site["url"] + fill(path, site), headers=headers,
                          json=BODIES.get(path), timeout=20)
        allowed = ROLES.index(role) >= ROLES.index(need)
        if allowed:
            assert r.status_code not in (401, 403), (role, method, path, r.text)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)


@pytest.mark.parametrize("name,path,status", [
    ("ina", "/review", 403), ("ina", "/lots", 403), ("sam", "/settings", 403),
    ("ada", "/settings", 200), ("sam", "/review", 200), ("ina", "/bench", 200)])
def test_pages_refuse_lower_roles(site, name, path, status):
    c = login(site["url"], name)
    assert c.get(path).status_code == status


def test_pages_send_anonymous_browsers_to_login(site):
    r = httpx.get(site["url"] + "/history", headers={"Accept": "text/html"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_session_api_write_without_csrf_header_is_refused(site):
    c = login(site["url"], "sam")
    path = f"/api/inspections/{site['ids'][6]}/review"
    body = {"verdict": "fail", "note": "x"}
    assert c.post(path, json=body).status_code == 403
    assert c.post(path, json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert c.post(path, json=body, headers={"X-CSRF-Token": c.csrf}).status_code == 200


def test_form_posts_without_csrf_are_refused(site):
    c = login(site["url"], "sam")
    path = f"/inspections/{site['ids'][3]}/review"
    form = {"verdict": "fail", "note": "stained"}
    assert c.post(path, data=form).status_code == 403
    assert c.post(path, data=form | {"csrf_token": "forged"}).status_code == 403
    assert c.post(path, data=form | {"csrf_token": c.csrf}).status_code == 303


def test_login_without_csrf_is_refused(site):
    r = httpx.post(site["url"] + "/login", data={"username": "ina", "password": PASSWORDS["ina"]})
    assert r.status_code == 403


@pytest.mark.parametrize("bad_id", [
    "..%2F..%2F..%2Fetc%2Fpasswd", "%2E%2E%2Fqcstation.db", "..", "....//....//etc",
    "x" * 65, "%00", "a%5C..%5C..%5Cwin.ini"])
@pytest.mark.parametrize("kind", ["image", "overlay"])
def test_image_routes_do_not_leave_the_image_store(site, bad_id, kind):
    headers = {"Authorization": f"Bearer {site['tokens']['admin']}"}
    r = httpx.get(f"{site['url']}/api/inspections/{bad_id}/{kind}", headers=headers)
    assert r.status_code == 404
    assert b"root:" not in r.content and b"SQLite" not in r.content


def test_wrong_passwords_are_rate_limited(site):
    c = httpx.Client(base_url=site["url"])
    token = csrf_of(c.get("/login").text)
    codes = [c.post("/login", data={"username": "ada", "password": f"wrong{i}",
                                    "csrf_token": token}).status_code for i in range(5)]
    assert codes == [401] * 5
    # the right password is refused too while the limit holds
    r = c.post("/login", data={"username": "ada", "password": PASSWORDS["ada"],
                               "csrf_token": token})
    assert r.status_code == 429
    # another user at the same bench still signs in (the address allows more tries)
    assert login(site["url"], "sam").get("/review").status_code == 200


def test_login_limiter_counts_per_name_and_per_address():
    from qcstation.web.auth import LoginLimiter

    limiter = LoginLimiter(attempts=2, address_attempts=3)
    limiter.failed("user:a", "ip:1")
    limiter.failed("user:a", "ip:1")
    assert limiter.blocked("user:a", "ip:1") and not limiter.blocked("user:b", "ip:1")
    limiter.failed("user:b", "ip:1")
    assert limiter.blocked("user:c", "ip:1") and not limiter.blocked("user:c", "ip:2")
    limiter.succeeded("user:a")
    assert not limiter.blocked("user:a", "ip:2")


def test_session_cookie_is_httponly_and_samesite(site):
    c = httpx.Client(base_url=site["url"])
    r = c.get("/login")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_pages_forbid_foreign_scripts_and_frames(site):
    r = httpx.get(site["url"] + "/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text and "onclick" not in r.text
    assert httpx.get(site["url"] + "/docs").status_code == 404  # its scripts come from a CDN
    assert httpx.get(site["url"] + "/openapi.json").status_code == 200
