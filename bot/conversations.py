"""Per-openid dialogue state, kept in the document store so any instance can continue a chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.documents import Document, DocumentStore

CONVERSATIONS = "conversations"
INBOUND = "wechat_inbound"  # one receipt per delivered message: how retries are recognised


@dataclass
class Conversation:
    openid: str
    step: str = "idle"  # idle | binding_name | binding_id | binding_uscc | binding_agent | picking
    data: dict[str, Any] = field(default_factory=dict)  # step inputs, matter list, active case
    version: int = 0
    # Set by a handler that changed something outside the conversation (a case, an account):
    # such a message must leave a receipt even if the dialogue state itself is unchanged.
    effect: bool = field(default=False, compare=False)


class Conversations:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def load(self, openid: str) -> Conversation:
        doc = await self._store.get(CONVERSATIONS, openid)
        if doc is None:
            return Conversation(openid)
        return Conversation(openid, doc["step"], doc["data"], doc["_version"])

    async def save(
        self, conv: Conversation, now: datetime, *, changed: bool, receipt: Document | None
    ) -> None:
        """Write the state (compare-and-set) if it changed, and the message's receipt, together.

        Two messages of one user handled at once cannot both win silently; a receipt that
        already exists (DuplicateKey) means another delivery of this message got there first.
        """
        if not changed and receipt is None:
            return
        doc = {"_id": conv.openid, "step": conv.step, "data": conv.data, "at": now.isoformat()}
        async with self._store.transaction() as tx:
            if receipt is not None:
                await tx.insert(INBOUND, receipt)
            if changed and conv.version == 0:
                conv.version = (await tx.insert(CONVERSATIONS, doc))["_version"]
            elif changed:
                saved = await tx.replace(CONVERSATIONS, doc, expected_version=conv.version)
                conv.version = saved["_version"]

    def snapshot(self, conv: Conversation) -> tuple[str, dict[str, Any]]:
        """The state as it is now, to tell whether a message changed it.

        Shallow is enough: handlers assign new values to ``data``'s keys, never mutate them.
        """
        return conv.step, dict(conv.data)
