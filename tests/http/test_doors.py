"""The role × door table (app/web/doors.py), walked for every staff-side route and every role.

Every route under /staff/, /courier/ and /kiosk/ must have a row; a role the row does not list
is turned away before the page runs (or, without a session there, sent to sign in); a role it
lists is never turned away at the door.
"""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from app.domain.actors import Role
from app.web.doors import DOORS, SHUT
from tests.http.conftest import Api
from tests.http.test_staff_pages import sign_in

ACCOUNTS = {
    Role.REVIEWER: "reviewer-mz",
    Role.SUPERVISOR: "demo-supervisor",
    Role.ADMIN: "demo-admin",
    Role.COURIER: "demo-courier",
    Role.KIOSK: "demo-kiosk",
}


def staff_routes(client: TestClient) -> list[tuple[str, str]]:
    found = set()
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in {"GET", "POST"} and path.startswith(("/staff/", "/courier/", "/kiosk/")):
            found.add((route.method, path))
    return sorted(found)


def concrete(path: str) -> str:
    """A request path for a pattern (the door is passed or not before any lookup)."""
    fills = {"which": "id_card", "decision": "grant", "kind": "pickup", "step": "pickup"}
    return re.sub(r"\{(\w+)\}", lambda m: fills.get(m[1], "x"), path)


async def test_every_staff_side_route_has_a_row_in_the_table(api: Api) -> None:
    missing = [path for _, path in staff_routes(api.client) if path != "/staff/login"]
    assert [p for p in missing if p not in DOORS] == []


async def test_each_role_passes_exactly_the_doors_its_row_lists(api: Api) -> None:
    client = api.client
    for role, username in ACCOUNTS.items():
        client.session.cookie_jar.clear()
        assert (await sign_in(client, username)).status == 303
        for method, path in staff_routes(client):
            if path == "/staff/login" or path.endswith("/logout"):
                continue  # signing out would end the walk
            resp = await client.request(method, concrete(path), allow_redirects=False)
            body = await resp.text()
            turned_away = SHUT in body or (
                resp.status in {302, 303} and "/staff/login" in resp.headers.get("Location", "")
            )
            allowed = role in DOORS[path]
            assert turned_away is not allowed, (role.value, method, path, resp.status)
            if not allowed and resp.status not in {302, 303}:
                assert resp.status == 403
