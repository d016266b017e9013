"""A world of real services for photo tests: SQLite, files, the OCR pool, the outbox jobs.

Fixtures are in conftest.py; ``World`` drives uploads and runs the jobs they queue.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

from PIL import Image

from app.domain.actors import Actor, Role
from app.services.case_effects import DEPOSIT_TOPIC
from app.services.cases import CaseService
from app.services.catalog import list_matters
from app.services.materials import MaterialService
from app.services.space import SpaceService
from storage.outbox import OutboxDispatcher
from storage.sqlite import SqliteDocumentStore

MATTER = "老年人优待证"  # id card front and back, and a portrait photo
ME = Actor("wx-me", Role.APPLICANT)
STRANGER = Actor("wx-stranger", Role.APPLICANT)


class World:
    def __init__(
        self,
        store: SqliteDocumentStore,
        cases: CaseService,
        materials: MaterialService,
        space: SpaceService,
        dispatcher: OutboxDispatcher,
    ) -> None:
        self.store, self.cases, self.materials = store, cases, materials
        self.space, self.dispatcher = space, dispatcher
        self.deposits = OutboxDispatcher(
            store, {DEPOSIT_TOPIC: space.deposit_from_case}, topics=[DEPOSIT_TOPIC]
        )

    async def photo(self, number: str, slot: str, data: bytes, actor: Actor = ME) -> dict[str, Any]:
        """Upload ``data`` to ``slot``, run the queued pre-check, return the kept verdict."""

        async def once() -> AsyncIterator[bytes]:
            yield data

        await self.materials.upload(actor, number, slot, once(), version=None)
        assert await self.dispatcher.dispatch_once() == 1
        case = await self.cases.get(actor, number)
        check = case.prechecks[slot]
        return {"status": check.status, "codes": [f.code for f in check.findings], "check": check}

    async def chat_notices(self, number: str) -> list[str]:
        docs = await self.store.find(
            "outbox", {"topic": "notify.applicant", "payload.case": number}
        )
        return [d["payload"]["text"] for d in docs]


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def open_case(world: World, actor: Actor = ME) -> str:
    matter = next(m for m in await list_matters(world.store) if MATTER in m.name)
    return (await world.cases.open(actor, matter.code)).number
