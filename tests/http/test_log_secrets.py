"""The access log and every other line keep no key to anything: signed links, OAuth codes,
tokens and signatures in a URL are cut before the line is written."""

from __future__ import annotations

import io
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from app import keys
from app.logs import REDACTED, redact_secrets
from app.main import create_app
from app.settings import Settings
from tests.conftest import Clock

SIG = "5f1c0ffee5f1c0ffee5f1c0ffee5f1c0ffee"
CODE = "oauthcodeABCDEF123456"
STATE = "stateXYZ987654321"


async def test_the_access_log_of_a_file_link_and_an_oauth_return_carries_no_secret(
    settings: Settings, clock: Clock, log_buffer: io.StringIO
) -> None:
    app = create_app(settings, clock=clock)
    async with TestClient(TestServer(app)) as http:  # the runner's default: aiohttp.access
        objects = app[keys.OBJECTS]

        async def photo() -> Any:
            yield b"\xff\xd8 not really a jpeg"

        await objects.put("cases/BC1/photo.jpg", photo(), content_type="image/jpeg", max_bytes=99)
        link = await objects.download_url("cases/BC1/photo.jpg")
        sig = link.split("sig=")[1]
        assert (await http.get(link.replace(str(settings.public_base_url), ""))).status == 200
        await http.get(f"/files/cases/BC1/photo.jpg?exp=9999999999&sig={SIG}")
        await http.get(
            f"/h5/oauth?code={CODE}&state={STATE}",
            headers={"Referer": f"http://127.0.0.1/h5/oauth?code={CODE}&state={STATE}"},
        )
    written = log_buffer.getvalue()
    access = [line for line in written.splitlines() if "aiohttp.access" in line]
    assert any("/files/cases/BC1/photo.jpg" in line for line in access)
    assert any("/h5/oauth" in line for line in access)
    for secret in (sig, SIG, CODE):
        assert secret not in written
    assert f"sig={REDACTED}" in written and f"code={REDACTED}" in written


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("GET /files/k.jpg?exp=17&sig=abc HTTP/1.1",
         "GET /files/k.jpg?exp=17&sig=[redacted] HTTP/1.1"),
        ("/wechat?signature=s&timestamp=1&nonce=2&msg_signature=m",
         "/wechat?signature=[redacted]&timestamp=1&nonce=2&msg_signature=[redacted]"),
        ("https://api.weixin.qq.com/cgi-bin/menu/create?access_token=T",
         "https://api.weixin.qq.com/cgi-bin/menu/create?access_token=[redacted]"),
        ("GET /h5/receipts/BC20261102000001/0f0f0f HTTP/1.1",
         "GET /h5/receipts/BC20261102000001/[redacted] HTTP/1.1"),
        ("/verify/BC1/0123456789abcdef0123?x=1", "/verify/BC1/[redacted]?x=1"),
        ("/staff/queue?page=2&state=returned", "/staff/queue?page=2&state=returned"),
        ("/h5/book?matter=m&case=BC1", "/h5/book?matter=m&case=BC1"),
    ],
)  # fmt: skip
def test_only_values_that_grant_access_are_cut(line: str, kept: str) -> None:
    assert redact_secrets(line) == kept
