"""企业认证 by a photo in the chat: the licence is read, and only the person it names becomes the
enterprise's legal representative here.

The licence is a generated 2019-format business licence photographed on a desk, sent as a chat
photo (JPEG, as WeChat sends it) and read by the real OCR engine. Its legal representative is
added to the local real-name register so that they can bind first.
"""

from __future__ import annotations

import io
import random
from datetime import date

from app import keys
from app.domain.identity import mask_uscc
from ocr.corpus import generate
from ocr.corpus.numbers import citizen_id
from tests.http.chat_world import OPENID, World, bind_by_chat, eventually

SEED = 56350  # a clean licence the engine reads whole (USCC, name, 法定代表人)


def licence() -> tuple[bytes, dict[str, str]]:
    [sample] = generate(SEED, 1, kinds=("business_licence",))
    out = io.BytesIO()
    sample.image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue(), sample.truth


async def send_licence(world: World, photo: bytes) -> None:
    assert "营业执照" in await world.say("企业认证")
    await world.sim.push_image(OPENID, photo)


async def test_the_person_the_licence_names_becomes_its_legal_representative(
    plain_world: World,
) -> None:
    world = plain_world
    photo, truth = licence()
    rng = random.Random(SEED)
    number = citizen_id("350102", date(1975, 3, 2), True, rng)
    world.client.app[keys.FACEID_SIMULATOR].register[number] = truth["legal_representative"]
    await bind_by_chat(world, truth["legal_representative"], number)

    await send_licence(world, photo)
    await eventually(lambda: any("企业认证成功" in t for t in world.chat()), within=60)
    told = next(t for t in world.chat() if "企业认证成功" in t)
    assert mask_uscc(truth["uscc"]) in told and truth["uscc"] not in told
    firm = await world.client.app[keys.DOCUMENTS].get("enterprises", truth["uscc"])
    assert firm is not None and firm["legal_rep_name"] == truth["legal_representative"]
    assert firm["established_by"].startswith("licence:")


async def test_someone_else_sending_the_licence_is_told_and_becomes_nothing(
    plain_world: World,
) -> None:
    world = plain_world
    photo, truth = licence()
    await bind_by_chat(world)  # 张三, whom the licence does not name
    await send_licence(world, photo)
    await eventually(lambda: any("法定代表人与您的实名信息不一致" in t for t in world.chat()), 60)
    assert await world.client.app[keys.DOCUMENTS].get("enterprises", truth["uscc"]) is None
