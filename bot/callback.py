"""The account's ``/wechat`` endpoint: verify, decrypt, deduplicate, answer within WeChat's 5 s."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from aiohttp import web

from bot import texts
from bot.client import read_capped
from bot.crypto import MessageCrypto, verify_fresh, verify_signature
from bot.dialogues import Dialogues
from bot.errors import (
    InvalidAppId,
    InvalidSignature,
    MalformedMessage,
    MessageTooLarge,
    StaleMessage,
)
from bot.inbound import first_sight, mark_late
from bot.parser import Inbound, parse_inbound
from bot.wire import MAX_BODY_BYTES, parse_xml, render_text_reply
from storage.documents import DocumentStore, DuplicateKey, VersionConflict
from storage.outbox import enqueue_alone

log = structlog.get_logger(__name__)

# WeChat drops the connection after 5 s and retries; answer well before that.
REPLY_DEADLINE = 4.0


class WeChatEndpoint:
    """GET answers URL verification; POST handles one message in plain, compatible or safe mode."""

    def __init__(
        self,
        *,
        token: str,
        crypto: MessageCrypto,
        dialogues: Dialogues,
        store: DocumentStore,
        clock: Callable[[], datetime],
        deadline: float = REPLY_DEADLINE,
    ) -> None:
        self._token = token
        self._crypto = crypto
        self._dialogues = dialogues
        self._store = store
        self._clock = clock
        self.deadline = deadline  # WeChat gives up at 5 s
        self._late: set[asyncio.Task[None]] = set()
        # One user's messages are handled one at a time on this instance: their dialogue
        # state is one document, and two at once would race on it.
        self._users: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/wechat", self.verify)
        app.router.add_post("/wechat", self.receive)

    async def verify(self, request: web.Request) -> web.Response:
        # Not checked for freshness: a replayed verification changes nothing and reads nothing.
        q = request.query
        try:
            verify_signature(
                q.get("signature"), self._token, q.get("timestamp", ""), q.get("nonce", "")
            )
        except InvalidSignature:
            return web.Response(status=403, text="invalid signature")
        return web.Response(text=q.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        safe = q.get("encrypt_type") == "aes"
        try:
            verify_signature(q.get("signature"), self._token, timestamp, nonce)
            verify_fresh(timestamp, time.time())  # WeChat's real time, whatever ``clock`` says
            body = await _read_capped(request)
            fields = parse_xml(body)
            if safe:
                inner = self._crypto.decrypt(
                    fields.get("Encrypt", ""),
                    msg_signature=q.get("msg_signature"),
                    timestamp=timestamp,
                    nonce=nonce,
                )
                fields = parse_xml(inner.encode("utf-8"))
            msg = parse_inbound(fields)
        except StaleMessage as exc:
            # Every genuine push refused this way means our clock is wrong: say by how much.
            log.warning("wechat_stale", reason=str(exc))
            return web.Response(status=403, text="stale message")
        except InvalidSignature:
            return web.Response(status=403, text="invalid signature")
        except MessageTooLarge:
            return web.Response(status=413, text="message too large")
        except (MalformedMessage, InvalidAppId) as exc:
            log.warning("wechat_rejected", reason=type(exc).__name__)
            return web.Response(status=400, text="malformed message")
        reply = await self._answer(msg)
        if reply is None:
            return web.Response(text="success")
        xml = render_text_reply(
            to_user=msg.from_user,
            from_user=msg.to_user,
            content=reply,
            create_time=int(time.time()),
        )
        if safe:
            xml = self._crypto.encrypt_reply(xml, nonce=nonce, timestamp=timestamp)
        return web.Response(text=xml, content_type="application/xml")

    async def _answer(self, msg: Inbound) -> str | None:
        now = self._clock()
        if msg.kind == "image":
            return await self._accept_photo(msg, now)
        key = msg.dedup_key
        work = asyncio.ensure_future(self._handle_in_turn(msg, key))
        if not await _finished_within(work, self.deadline):
            await mark_late(self._store, key, now)
            self._finish_late(msg, work)
            return None
        try:
            return work.result()
        except DuplicateKey:
            return _earlier_reply(await first_sight(self._store, key))  # another delivery won

    async def _handle_in_turn(self, msg: Inbound, key: str) -> str | None:
        """Handle one user's messages one at a time; a retry is recognised by its receipt."""
        lock = self._users.get(msg.from_user)
        if lock is None:
            lock = self._users[msg.from_user] = asyncio.Lock()
        async with lock:
            # Looked up under the lock: a duplicate delivered at the same moment waits here
            # and then finds the receipt of the first one.
            earlier = await first_sight(self._store, key)
            if earlier is not None:
                return _earlier_reply(earlier)
            try:
                return await self._dialogues.handle(msg, receipt=key)
            except VersionConflict:
                # Another instance changed this user's state meanwhile: read it again, once.
                return await self._dialogues.handle(msg, receipt=key)

    async def _accept_photo(self, msg: Inbound, now: datetime) -> str:
        """Photos take longer than 5 s to fetch and store: queue them, answer at once."""
        claiming = await self._dialogues.expects_licence(msg.from_user)  # 企业认证
        if not claiming and await self._dialogues.active_case(msg.from_user) is None:
            return texts.NO_OPEN_CASE
        await enqueue_alone(
            self._store,
            topic="wechat.photo",
            key=f"photo:{msg.dedup_key}",
            payload={"openid": msg.from_user, "media_id": msg.media_id, "msg": msg.dedup_key},
            now=now,
        )
        return texts.PHOTO_RECEIVED

    def _finish_late(self, msg: Inbound, work: asyncio.Future[str | None]) -> None:
        """The reply missed WeChat's deadline: send it as a customer-service message instead."""

        async def deliver() -> None:
            try:
                reply = await work
            except Exception:
                log.exception("wechat_late_reply_failed", msg=msg.dedup_key)
                return
            if reply:
                await enqueue_alone(
                    self._store,
                    topic="wechat.text",
                    key=f"reply:{msg.dedup_key}",
                    payload={"openid": msg.from_user, "text": reply},
                    now=self._clock(),
                )

        task = asyncio.ensure_future(deliver())
        self._late.add(task)
        task.add_done_callback(self._late.discard)


async def _finished_within(work: asyncio.Future[Any], seconds: float) -> bool:
    """Whether ``work`` is done within ``seconds``. Unlike ``wait_for``, the work is never
    cancelled (it goes on to answer late), and a message costs one future and one timer rather
    than wait_for's and shield's chain of futures: this runs for every message."""
    if seconds <= 0:
        return work.done()  # no time at all: as wait_for, only what is done already
    loop = asyncio.get_running_loop()
    woken = loop.create_future()

    def wake(_: object) -> None:
        if not woken.done():
            woken.set_result(None)

    work.add_done_callback(wake)
    timer = loop.call_later(seconds, wake, None)
    try:
        await woken
    finally:
        timer.cancel()
        work.remove_done_callback(wake)
    return work.done()


def _earlier_reply(receipt: dict[str, Any] | None) -> str | None:
    """A retry gets the first answer; while the first is still being worked on, nothing."""
    if receipt is None or receipt.get("status") != "done":
        return None
    reply = receipt.get("reply")
    return str(reply) if reply is not None else None


async def _read_capped(request: web.Request) -> bytes:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise MessageTooLarge(f"{request.content_length} bytes")
    return await read_capped(request.content, MAX_BODY_BYTES, MessageTooLarge)
