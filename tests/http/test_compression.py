"""Text answers go gzip-compressed to clients that accept it; photos never; cross-site not."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from yarl import URL

from app import keys
from app.edge.compression import accepts_gzip
from tests.http.conftest import Api, citizen_matter

GZIP = {"Accept-Encoding": "gzip, deflate"}


async def raw(api: Api, path: str, headers: dict[str, str]) -> Any:
    """The response as sent on the wire: not decompressed by the client."""
    resp = await api.client.get(path, headers=headers, auto_decompress=False)
    return resp, await resp.read()


async def test_a_json_answer_is_gzipped_for_a_client_that_accepts_it(api: Api) -> None:
    resp, body = await raw(api, "/api/v1/matters?target=citizen", GZIP)
    assert resp.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in resp.headers["Vary"]
    plain, plain_body = await raw(api, "/api/v1/matters?target=citizen", {"Accept-Encoding": ""})
    assert "Content-Encoding" not in plain.headers
    assert json.loads(gzip.decompress(body)) == json.loads(plain_body)
    assert len(body) * 2 < len(plain_body)  # what a phone on a weak signal waits for


async def test_a_page_and_a_stylesheet_are_gzipped_too(api: Api) -> None:
    page, body = await raw(api, f"/guides/{await citizen_matter(api)}", GZIP)
    assert page.headers["Content-Encoding"] == "gzip"
    assert "办事指南" in gzip.decompress(body).decode()
    css, _ = await raw(api, "/static/site.css", GZIP)
    assert css.headers["Content-Encoding"] == "gzip"


async def test_a_photo_is_sent_as_stored_never_compressed_again(api: Api) -> None:
    objects = api.client.app[keys.OBJECTS]
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 64  # compressible, but a JPEG

    async def once() -> AsyncIterator[bytes]:
        yield photo

    await objects.put("cases/BC1/photo.jpg", once(), content_type="image/jpeg", max_bytes=10**6)
    link = await objects.download_url("cases/BC1/photo.jpg")
    resp, body = await raw(api, URL(link).path_qs, GZIP)
    assert resp.status == 200 and "Content-Encoding" not in resp.headers
    assert body == photo


async def test_a_request_from_another_site_is_answered_uncompressed(api: Api) -> None:
    # BREACH: a page's compressed length must not become an oracle for another site.
    cross = GZIP | {"Sec-Fetch-Site": "cross-site"}
    resp, _ = await raw(api, f"/guides/{await citizen_matter(api)}", cross)
    assert "Content-Encoding" not in resp.headers
    same = GZIP | {"Sec-Fetch-Site": "same-origin"}
    resp, _ = await raw(api, f"/guides/{await citizen_matter(api)}", same)
    assert resp.headers["Content-Encoding"] == "gzip"


async def test_a_short_answer_is_not_worth_compressing(api: Api) -> None:
    resp, body = await raw(api, "/healthz", GZIP)
    assert resp.status == 200 and "Content-Encoding" not in resp.headers and len(body) < 1024


@pytest.mark.parametrize(
    ("header", "gzip_ok"),
    [
        ("gzip, deflate, br", True),
        ("GZIP", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("*;q=0, gzip", True),
        ("gzip;q=0, *", False),
        ("deflate", False),
        ("identity", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_as_http_says(header: str, gzip_ok: bool) -> None:
    assert accepts_gzip(header) is gzip_ok
