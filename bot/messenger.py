"""Outbox handlers that talk to the applicant in WeChat: case notices, late replies, chat photos."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from app.domain.errors import DomainError
from app.domain.identity import mask_sensitive
from app.services.accounts import USERS, account_of_openid
from app.services.cases import CaseService
from app.services.mandate_changes import NOTIFY_PERSON
from app.services.mandates import MandateService
from app.services.materials import MAX_MATERIAL_BYTES, MaterialService, as_chunks
from app.services.space import SpaceService
from bot import reuse, texts
from bot.active_case import active_case
from bot.client import WeChatApiError, WeChatClient
from bot.conversations import Conversations
from bot.links import link
from storage.documents import DocumentStore
from storage.outbox import Handler, OutboxMessage, enqueue_alone

log = structlog.get_logger(__name__)
OUT_OF_WINDOW = 45015  # customer-service messages only within 48 h of the user's last message


class Messenger:
    """Delivers queued chat messages; each handler may run more than once for one message."""

    def __init__(
        self,
        client: WeChatClient,
        store: DocumentStore,
        cases: CaseService,
        materials: MaterialService,
        space: SpaceService,
        mandates: MandateService,
        *,
        public_base_url: str,
        template_id: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._store = store
        self._cases = cases
        self._materials = materials
        self._space = space
        self._mandates = mandates
        self._base = public_base_url
        self._template_id = template_id
        self._clock = clock

    def handlers(self) -> dict[str, Handler]:
        return {
            "notify.applicant": self.notify_applicant,
            NOTIFY_PERSON: self.notify_person,
            "wechat.text": self.send_text,
            "wechat.photo": self.attach_photo,
        }

    async def notify_applicant(self, msg: OutboxMessage) -> None:
        """A case notice: as a chat message, or as a template message outside the 48 h window."""
        user = await self._store.get(USERS, msg.payload["applicant_id"])
        openid = user.get("openid") if user else None
        if not openid:
            log.info("notice_without_chat", case=msg.payload["case"])  # API-only account
            return
        text = mask_sensitive(msg.payload["text"])
        # A notice with a page of its own (a correction notice) links to it; others to the case.
        url = f"{self._base}{msg.payload.get('path') or '/h5/cases/' + msg.payload['case']}"
        if msg.payload.get("path"):
            text += "\n" + link(url, msg.payload.get("link_label", "查看告知书"))
        for extra in msg.payload.get("links", []):  # e.g. a hall's place on a public map
            text += "\n" + link(extra["url"], extra["label"])
        try:
            await self._client.send_text(openid, text)
        except WeChatApiError as exc:
            if exc.errcode != OUT_OF_WINDOW or not self._template_id:
                raise
            await self._client.send_template(
                openid,
                self._template_id,
                url=url,
                data={"first": text, "keyword1": msg.payload["case"], "remark": "点击查看详情"},
            )

    async def notify_person(self, msg: OutboxMessage) -> None:
        """A message to a person about them (an authorisation, a binding), with its page."""
        user = await self._store.get(USERS, msg.payload["person"])
        openid = user.get("openid") if user else None
        if not openid:
            log.info("notice_without_chat", person=msg.payload["person"])
            return
        text = mask_sensitive(msg.payload["text"])
        if path := msg.payload.get("path"):
            text += "\n" + link(self._base + path, msg.payload.get("link_label", "查看详情"))
        await self._client.send_text(openid, text)

    async def send_text(self, msg: OutboxMessage) -> None:
        await self._client.send_text(msg.payload["openid"], mask_sensitive(msg.payload["text"]))

    async def attach_photo(self, msg: OutboxMessage) -> None:
        """Fetch a chat photo and file it where it belongs; a rerun never files it twice."""
        openid, source = msg.payload["openid"], f"chat:{msg.payload['msg']}"
        conv = await Conversations(self._store).load(openid)
        if conv.step == "claim_licence":  # 企业认证: the licence, not a case's material
            await self._claim(msg, openid)
            return
        found = await active_case(self._store, self._cases, openid)
        if found is None:
            await self._reply(msg, texts.NO_OPEN_CASE)
            return
        actor, case = found
        try:
            filed = await self._materials.file_once(
                actor, case, source=source, fetch=lambda: self._download(msg)
            )
        except DomainError as exc:  # not a photo, case no longer open: tell, don't retry
            await self._reply(msg, texts.PHOTO_FAILED.format(reason=exc.message))
            return
        if filed is None:
            await self._reply(msg, texts.NOTHING_TO_FILL)
            return
        case, _ = filed
        # Acknowledged when it arrived, told with its verdict: a message here only to offer a
        # document from the personal space for what comes next.
        if offer := await reuse.offer(self._space, case):
            await self._reply(msg, offer.strip())

    async def _claim(self, msg: OutboxMessage, openid: str) -> None:
        actor = await account_of_openid(self._store, openid)
        if actor is None:
            await self._reply(msg, texts.BIND_FIRST)
            return
        data = await self._download(msg)
        try:
            await self._mandates.claim(actor, as_chunks(data), key=f"chat:{msg.payload['msg']}")
        except DomainError as exc:
            await self._reply(msg, texts.PHOTO_FAILED.format(reason=exc.message))
            return
        await self._reply(msg, texts.LICENCE_RECEIVED)

    async def _download(self, msg: OutboxMessage) -> bytes:
        data, _ = await self._client.download_media(
            msg.payload["media_id"], max_bytes=MAX_MATERIAL_BYTES
        )
        return data

    async def _reply(self, msg: OutboxMessage, text: str) -> None:
        await enqueue_alone(
            self._store,
            topic="wechat.text",
            key=f"reply:{msg.payload['msg']}",
            payload={"openid": msg.payload["openid"], "text": text},
            now=self._clock(),
        )
