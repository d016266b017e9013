"""Download links through the real app: /files/ for the filesystem store; MinIO by settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from app import keys
from app.main import create_app
from app.settings import Settings, load_settings
from tests.conftest import Clock
from tests.contract.s3_server import CheckedMotoServer

PHOTO = b"\xff\xd8\xff\xe0" + b"photo" * 1000
ACCESS_KEY, SECRET_KEY = "buchumen-http", "buchumen-http-secret-key"


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


def path_of(url: str) -> str:
    """The link without scheme and host: the test client talks to the app directly."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_filesystem_link_serves_the_photo_privately_until_it_expires(
    aiohttp_client: Any, settings: Settings, clock: Clock
) -> None:
    client = await aiohttp_client(create_app(settings, clock=clock))
    objects = client.app[keys.OBJECTS]
    await objects.put(
        "cases/BCM-9/id.jpg", chunks(PHOTO), content_type="image/jpeg", max_bytes=10**6
    )

    url = await objects.download_url("cases/BCM-9/id.jpg")  # the default: five minutes

    assert url.startswith(f"{settings.public_base_url}/files/cases/BCM-9/id.jpg?")
    resp = await client.get(path_of(url))
    assert resp.status == 200
    assert resp.content_type == "image/jpeg"
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert await resp.read() == PHOTO

    clock.advance(minutes=5)
    resp = await client.get(path_of(url))
    assert resp.status == 403
    assert "链接无效或已过期" in await resp.text()
    assert resp.headers["Cache-Control"] == "private, no-store"


async def test_a_filesystem_link_signed_with_another_secret_is_refused(
    aiohttp_client: Any, settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    other = load_settings(
        {}, demo=True, data_dir=tmp_path / "other", wechat_simulator_port=0
    )  # its own demo JWT secret, so its own link key
    client = await aiohttp_client(create_app(settings, clock=clock))
    theirs = await aiohttp_client(create_app(other, clock=clock))
    for app in (client.app, theirs.app):
        await app[keys.OBJECTS].put(
            "k.jpg", chunks(PHOTO), content_type="image/jpeg", max_bytes=10**6
        )

    url = await theirs.app[keys.OBJECTS].download_url("k.jpg")

    assert (await client.get(path_of(url))).status == 403
    assert (await theirs.get(path_of(url))).status == 200


@pytest.fixture(scope="module")
def moto() -> Iterator[CheckedMotoServer]:
    server = CheckedMotoServer({ACCESS_KEY: SECRET_KEY})
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_the_minio_store_is_wired_by_settings_and_reported_ready(
    aiohttp_client: Any, moto: CheckedMotoServer, tmp_path: Path, clock: Clock
) -> None:
    settings = load_settings(
        {
            "BUCHUMEN_OBJECT_STORE": "minio",
            "BUCHUMEN_MINIO_ENDPOINT": moto.endpoint,
            "BUCHUMEN_MINIO_ACCESS_KEY": ACCESS_KEY,
            "BUCHUMEN_MINIO_SECRET_KEY": SECRET_KEY,
            "BUCHUMEN_MINIO_BUCKET": "buchumen-http-test",
            # Users reach the server by another name than the app: links must be signed for it.
            "BUCHUMEN_MINIO_PUBLIC_URL": f"http://localhost:{moto.get_host_and_port()[1]}",
        },
        demo=True,
        data_dir=tmp_path / "var",
        wechat_simulator_port=0,
    )
    client = await aiohttp_client(create_app(settings, clock=clock))  # opening makes the bucket

    resp = await client.get("/readyz")
    assert resp.status == 200
    assert (await resp.json())["checks"] == {"documents": "ok", "objects": "ok"}

    objects = client.app[keys.OBJECTS]
    await objects.put(
        "cases/BCM-1/id.jpg", chunks(PHOTO), content_type="image/jpeg", max_bytes=10**6
    )
    url = await objects.download_url("cases/BCM-1/id.jpg", expires=timedelta(minutes=1))
    public = f"http://localhost:{moto.get_host_and_port()[1]}"
    assert url.startswith(f"{public}/buchumen-http-test/cases/BCM-1/id.jpg?")
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        assert (resp.status, await resp.read()) == (200, PHOTO)
    assert (await client.get(path_of(url).replace("/buchumen-http-test/", "/files/"))).status == 404
