"""Per-openid dialogue state, kept in the document store so any instance can continue a chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.documents import DocumentStore

CONVERSATIONS = "conversations"


@dataclass
class Conversation:
    openid: str
    step: str = "idle"  # idle | binding_name | binding_id | binding_uscc | binding_agent | picking
    data: dict[str, Any] = field(default_factory=dict)  # step inputs, matter list, active case
    version: int = 0


class Conversations:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def load(self, openid: str) -> Conversation:
        doc = await self._store.get(CONVERSATIONS, openid)
        if doc is None:
            return Conversation(openid)
        return Conversation(openid, doc["step"], doc["data"], doc["_version"])

    async def save(self, conv: Conversation, now: datetime) -> None:
        """Compare-and-set: two messages of one user handled at once cannot both win silently."""
        doc = {"_id": conv.openid, "step": conv.step, "data": conv.data, "at": now.isoformat()}
        async with self._store.transaction() as tx:
            if conv.version == 0:
                saved = await tx.insert(CONVERSATIONS, doc)
            else:
                saved = await tx.replace(CONVERSATIONS, doc, expected_version=conv.version)
        conv.version = saved["_version"]
