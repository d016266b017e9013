"""PUT a photo: the store keeps it without location, still upright, as the case records it."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PIL import Image

from app import keys
from ocr.intake import load_image
from storage.pairing import MARK_KEY
from tests.gps_photos import PLACE, TYPES, photo, pixels
from tests.http.conftest import Api, open_case


async def trickle(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    """A chunked request body in small pieces, as a slow phone connection sends it."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def stored(api: Api, number: str, slot: str) -> tuple[dict[str, Any], bytes]:
    doc = await api.client.app[keys.DOCUMENTS].get("cases", number)
    assert doc is not None
    ref = doc["materials"][slot]
    data = b"".join([c async for c in api.client.app[keys.OBJECTS].get(ref["object_key"])])
    return ref, data


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
async def test_an_uploaded_photo_is_stored_without_its_location(api: Api, fmt: str) -> None:
    case = await open_case(api)
    slot = case["materials"][0]["slot_id"]
    sent = photo(fmt)
    status, body = await api.call(
        "PUT", f"/cases/{case['number']}/materials/{slot}", "demo-citizen", data=trickle(sent)
    )
    assert status == 200, body
    ref, kept = await stored(api, case["number"], slot)
    assert PLACE in sent and PLACE not in kept and b"GPSLatitude" not in kept
    assert ref["content_type"] == TYPES[fmt]
    assert ref["size"] == len(kept) and ref["sha256"] == hashlib.sha256(kept).hexdigest()
    assert pixels(kept) == pixels(sent)
    assert load_image(kept).original_size == load_image(sent).original_size == (64, 96)
    with Image.open(io.BytesIO(kept)) as im:
        assert im.getexif().get_ifd(0x8825) == {}


async def test_a_photo_broken_where_its_metadata_lives_is_refused_and_nothing_kept(
    api: Api,
) -> None:
    case = await open_case(api)
    slot = case["materials"][0]["slot_id"]
    broken = b"\xff\xd8\xff\xe1\x00\x01" + PLACE * 100  # an impossible APP1 length
    status, body = await api.call(
        "PUT", f"/cases/{case['number']}/materials/{slot}", "demo-citizen", data=broken
    )
    assert status == 422
    assert body["error"]["message"] == "照片文件不完整，请重新拍摄或上传"
    _, now = await api.call("GET", f"/cases/{case['number']}", "demo-citizen")
    assert not any(m["attached"] for m in now["materials"])
    store = api.client.app[keys.OBJECTS]
    kept = [p for p in api.client.app[keys.SETTINGS].resolved_objects_dir.rglob("*") if p.is_file()]
    assert len(kept) == 2  # only the store's own pairing mark (storage/pairing.py), key and blob
    assert [c async for c in store.get(MARK_KEY)]
