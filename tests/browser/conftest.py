"""A real service on a real port, driven by Debian's chromium through Playwright.

No browser is downloaded: Playwright's driver comes from PyPI and launches the `chromium`
package that `python3 -m tests` installs. Screenshots land in var/screenshots/.

Every phone reports what its pages' Content-Security-Policy refused; a test whose pages broke
the policy (an inline script or style the policy blocks) fails at teardown, naming it.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright

from app import keys
from app.main import create_app
from app.services.staff import DEMO_STAFF_PASSWORD
from app.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}
# What chromium writes to a page's console when the policy blocks something, this test's.
CSP_REFUSALS: list[str] = []


@dataclass
class Live:
    base: str  # the service, e.g. http://127.0.0.1:41234
    chat: str  # the WeChat simulator's phone chat page
    app: web.Application


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    port = _free_port()
    settings = load_settings(
        {},
        demo=True,
        data_dir=tmp_path / "var",
        port=port,
        public_base_url=f"http://127.0.0.1:{port}",
        wechat_simulator_port=0,
        log_level="WARNING",
    )
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield Live(f"http://127.0.0.1:{port}", f"{app[keys.WECHAT_SIMULATOR_URL]}/chat", app)
    finally:
        await runner.cleanup()


@pytest.fixture(autouse=True)
def csp_refusals() -> Iterator[list[str]]:
    """The policy refusals the test's pages reported; any left at the end fail the test (a test
    that provokes one on purpose takes it out of the list)."""
    # pytest loads this file as "conftest" and the tests import it as tests.browser.conftest:
    # two modules, so take the list that phone(), called by the tests, appends to.
    from tests.browser.conftest import CSP_REFUSALS as refusals

    refusals.clear()
    yield refusals
    if refusals:
        pytest.fail("a page broke its Content-Security-Policy:\n" + "\n".join(refusals))


def _watch_policy(message: ConsoleMessage) -> None:
    if "Content Security Policy" in message.text:
        CSP_REFUSALS.append(f"{message.page.url if message.page else '?'}: {message.text}")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (python3 -m tests installs it)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        await launched.close()


async def phone(browser: Browser) -> BrowserContext:
    """A phone-sized browser of its own: its own cookies, like a second person's phone."""
    context = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    context.on("console", _watch_policy)
    return context


async def staff_phone(browser: Browser, live: Live, username: str, then: str = "") -> Page:
    """A phone of its own, signed in on /staff/login as ``username``, landed where it goes next
    (``then``, or the account's home page)."""
    page = await (await phone(browser)).new_page()
    await page.goto(f"{live.base}/staff/login" + (f"?next={then}" if then else ""))
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", DEMO_STAFF_PASSWORD)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    return page


async def shot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
