"""Sessions end server-side: 退出, a new password and a disabled account close them for good, and
a staff cookie, an H5 cookie and an API token each open only their own door."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from app import keys
from app.services.staff import WRONG, disable_staff_account, set_staff_account
from tests.conftest import Clock
from tests.http.conftest import Api
from tests.http.test_staff_pages import sign_in, token_of


def staff_cookie(http: TestClient, path: str = "/staff/") -> str:
    return http.session.cookie_jar.filter_cookies(http.make_url(path))["bcm_staff"].value


async def opens(http: TestClient, path: str, cookie: str) -> bool:
    """Whether ``cookie`` alone, replayed from anywhere, opens ``path``."""
    name = "bcm_h5" if path.startswith("/h5/") else "bcm_staff"
    resp = await http.get(path, headers={"Cookie": f"{name}={cookie}"}, allow_redirects=False)
    return resp.status == 200


async def bearer_status(http: TestClient, token: str) -> int:
    resp = await http.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    return resp.status


async def test_after_logout_the_old_staff_cookie_opens_nothing_and_was_never_an_api_token(
    api: Api,
) -> None:
    http = api.client
    assert (await sign_in(http, "reviewer-mz")).status == 303
    cookie = staff_cookie(http)
    assert await opens(http, "/staff/queue", cookie)
    assert await bearer_status(http, cookie) == 401  # a page's cookie is not an API token
    page = await (await http.get("/staff/queue")).text()
    out = await http.post("/staff/logout", data={"csrf": token_of(page)}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/staff/login"
    assert not await opens(http, "/staff/queue", cookie)  # a copy kept elsewhere is dead too
    assert await bearer_status(http, cookie) == 401


async def test_a_courier_signing_out_on_their_own_page_ends_that_session_too(api: Api) -> None:
    http = api.client
    assert (await sign_in(http, "demo-courier")).status == 303
    cookie = staff_cookie(http, "/courier/")
    page = await (await http.get("/courier/")).text()
    assert await opens(http, "/courier/", cookie)
    await http.post("/courier/logout", data={"csrf": token_of(page)}, allow_redirects=False)
    assert not await opens(http, "/courier/", cookie)


async def test_a_new_password_ends_every_session_and_token_and_the_new_one_signs_in(
    api: Api, clock: Clock
) -> None:
    http = api.client
    assert (await sign_in(http, "reviewer-mz")).status == 303
    cookie, token = staff_cookie(http), api.tokens["reviewer-mz"]
    assert await bearer_status(http, token) == 200
    await set_staff_account(
        http.app[keys.DOCUMENTS], "reviewer-mz", role="reviewer", department="mz",
        name="民政预审员", password="a-new-password-1", now=clock(),
    )  # fmt: skip
    assert not await opens(http, "/staff/queue", cookie)
    assert await bearer_status(http, token) == 401
    assert (await sign_in(http, "reviewer-mz", "a-new-password-1")).status == 303
    assert await opens(http, "/staff/queue", staff_cookie(http))


async def test_a_disabled_account_is_signed_out_and_cannot_sign_in_again(
    api: Api, clock: Clock
) -> None:
    http = api.client
    assert (await sign_in(http, "reviewer-mz")).status == 303
    cookie = staff_cookie(http)
    await disable_staff_account(http.app[keys.DOCUMENTS], "reviewer-mz", clock())
    assert not await opens(http, "/staff/queue", cookie)
    again = await sign_in(http, "reviewer-mz")
    assert again.status == 401 and WRONG in await again.text()  # as if it did not exist


async def test_an_api_token_opens_neither_the_staff_pages_nor_the_applicants_pages(
    api: Api,
) -> None:
    http = api.client
    assert await bearer_status(http, api.tokens["reviewer-mz"]) == 200
    assert not await opens(http, "/staff/queue", api.tokens["reviewer-mz"])
    assert not await opens(http, "/h5/cases", api.tokens["demo-citizen"])
