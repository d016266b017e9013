"""Every response carries the security headers; personal pages are never cached; the
templates need no inline script, event handler or style, so the policy forbids all three."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from app.edge.headers import content_security_policy
from app.settings import Settings
from tests.http.conftest import Api, open_case
from tests.http.test_staff_pages import sign_in

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "web" / "templates"
DIRECTIVES = ("default-src 'self'", "script-src 'self';",
              "style-src 'self'", "object-src 'none'", "base-uri 'none'",
              "frame-ancestors 'none'")  # fmt: skip
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle\s*=|javascript:", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.I)


def _assert_secured(headers: object, *, cached: bool = False) -> None:
    h = dict(headers)  # type: ignore[call-overload]
    policy = h["Content-Security-Policy"]
    for directive in DIRECTIVES:
        assert directive in policy
    assert "unsafe-" not in policy  # no inline script, handler or style, no eval
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] in {"no-referrer", "same-origin"}
    assert h["Server"] == "buchumen"  # no aiohttp or Python version
    if not cached:
        assert "no-store" in h["Cache-Control"]


async def test_h5_staff_api_and_error_pages_carry_the_headers_and_are_not_cached(
    api: Api,
) -> None:
    case = await open_case(api)
    http = api.client
    for path in ("/h5/cases", "/staff/login", "/kiosk/", "/courier/", "/no/such/page"):
        _assert_secured((await http.get(path, allow_redirects=False)).headers)
    me, number = "demo-citizen", case["number"]
    for path, who in (("/matters", None), ("/cases", me), (f"/cases/{number}", me),
                      ("/cases?page=99999999999999999999", me), ("/cases", None)):  # fmt: skip
        resp = await http.get(f"/api/v1{path}", headers=api.headers(who))
        _assert_secured(resp.headers)
    await sign_in(http, "reviewer-mz")
    queue = await http.get("/staff/queue")
    assert queue.status == 200
    _assert_secured(queue.headers)
    static = await http.get("/static/site.css")
    _assert_secured(static.headers, cached=True)
    assert "no-store" not in static.headers.get("Cache-Control", "")


async def test_a_file_link_keeps_its_own_stricter_headers(api: Api) -> None:
    resp = await api.client.get("/files/cases/x.jpg?exp=1&sig=00")
    assert resp.status == 403
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Server"] == "buchumen"


def test_images_may_come_from_minio_where_presigned_links_lead(settings: Settings) -> None:
    assert "img-src 'self' data:;" in content_security_policy(settings)
    minio = settings.model_copy(
        update={"object_store": "minio", "minio_public_url": "https://files.example.gov.cn/x"}
    )
    assert "img-src 'self' data: https://files.example.gov.cn;" in content_security_policy(minio)


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_no_template_has_inline_script_handler_or_style(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    found = INLINE.findall(text) + HANDLER.findall(text)
    assert not found, f"{template.name}: {found} (the policy blocks these: use static/ files)"


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_a_template_that_asks_for_form_behaviour_loads_the_script_that_gives_it(
    template: Path,
) -> None:
    # Without static/forms.js a withdrawal would go without its question, and a chosen photo
    # would wait for a button that is not there.
    text = template.read_text(encoding="utf-8")
    if "data-confirm" in text or "data-autosubmit" in text:
        assert '<script src="/static/forms.js" defer></script>' in text


async def test_a_request_refused_before_any_handler_names_no_server_version(api: Api) -> None:
    # aiohttp answers a malformed request itself, without the response signal that sets the
    # headers above: its Server header would say which aiohttp and Python to attack.
    reader, writer = await asyncio.open_connection(api.client.host, api.client.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
    await writer.drain()
    head = (await reader.read(4096)).decode("latin-1")
    writer.close()
    assert head.split("\r\n")[0].endswith(" 400 Bad Request")
    assert [h for h in head.split("\r\n") if h.lower().startswith("server:")] == [
        "Server: buchumen"
    ]
