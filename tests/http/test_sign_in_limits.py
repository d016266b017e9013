"""The staff sign-in page under guessing: one client address trying many names is told to wait,
behind a trusted proxy each client counts apart, and a locked account answers like a name that
does not exist."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from app.main import create_app
from app.services.staff import LOCKED, MAX_FAILURES, PER_ADDRESS, TOO_MANY, WRONG
from app.settings import load_settings
from tests.conftest import Clock
from tests.http.conftest import Api
from tests.http.test_staff_pages import sign_in, token_of


async def try_as(http: TestClient, username: str, password: str, via: str | None = None) -> Any:
    """A sign-in, optionally through a proxy that says the client is ``via``."""
    page = await (await http.get("/staff/login")).text()
    form = {"csrf": token_of(page), "username": username, "password": password, "next": ""}
    headers = {"X-Forwarded-For": via} if via else {}
    return await http.post("/staff/login", data=form, headers=headers, allow_redirects=False)


async def test_one_address_guessing_many_names_is_told_to_wait_whatever_it_claims(
    api: Api,
) -> None:
    http = api.client
    for i in range(PER_ADDRESS):
        assert (await try_as(http, f"guess-{i}", "password1")).status == 401
    stopped = await try_as(http, "guess-last", "password1")
    assert stopped.status == 429 and TOO_MANY in await stopped.text()
    assert stopped.headers["Retry-After"] == "900"
    right = await sign_in(http, "reviewer-mz")  # the right password too, from this address
    assert right.status == 429
    # No proxy is trusted here: a forwarded address is the client's own invention.
    assert (await try_as(http, "reviewer-mz", "demo-2026", via="198.51.100.2")).status == 429


async def test_behind_a_trusted_proxy_each_client_address_counts_apart(
    aiohttp_client: Any, tmp_path: Path, clock: Clock
) -> None:
    proxied = load_settings(
        {}, demo=True, data_dir=tmp_path / "var", wechat_simulator_port=0,
        trusted_proxies="127.0.0.1",  # the test client's peer: our reverse proxy here
    )  # fmt: skip
    http = await aiohttp_client(create_app(proxied, clock=clock))
    for i in range(PER_ADDRESS + 1):
        await try_as(http, f"guess-{i}", "password1", via="203.0.113.7")
    assert (await try_as(http, "reviewer-mz", "demo-2026", via="203.0.113.7")).status == 429
    # What the client put left of its own address is not believed either.
    spoofed = await try_as(http, "reviewer-mz", "demo-2026", via="192.0.2.1, 203.0.113.7")
    assert spoofed.status == 429
    assert (await try_as(http, "reviewer-mz", "demo-2026", via="198.51.100.2")).status == 303


async def test_a_locked_account_and_a_name_that_does_not_exist_get_the_same_page(
    api: Api,
) -> None:
    http = api.client
    pages = []
    for name in ("reviewer-ga", "nobody-here"):
        for _ in range(MAX_FAILURES):
            wrong = await try_as(http, name, "not-the-password")
            assert wrong.status == 401 and WRONG in await wrong.text()
        locked = await try_as(http, name, "not-the-password")
        form_token = token_of(page := await locked.text())
        pages.append((locked.status, page.replace(form_token, "")))  # each form has its own
    assert pages[0] == pages[1] and pages[0][0] == 401 and LOCKED in pages[0][1]
