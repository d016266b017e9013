"""The simulated platform as tests and the chat page drive it: push as a user, read the chat."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

from bot.crypto import MessageCrypto
from bot.simulator.chat_log import ChatEntry, ChatLog, preview
from bot.simulator.faults import Faults
from bot.simulator.push import PUSH_ATTEMPTS, PUSH_TIMEOUT, Mode, Pusher, PushResult, inner_xml
from bot.simulator.state import ACCOUNT_ID, Clock, PlatformState, utcnow
from bot.wire import XmlFields

# What WeChat itself shows the user when the account fails to answer in time or properly.
UNAVAILABLE = "该公众号暂时无法提供服务，请稍后再试"
_EVENT_TEXT = {
    "subscribe": "你关注了公众号",
    "unsubscribe": "你取消了关注",
    "VIEW": "你打开了菜单链接",
}


def sniff_image(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "image/jpeg"


class Simulator:
    """One official account's view of WeChat: its API state and its users' pushes."""

    def __init__(
        self,
        *,
        token: str,
        encoding_aes_key: str,
        appid: str,
        secret: str,
        callback_url: str,
        mode: Mode = "safe",
        clock: Clock = utcnow,
        push_timeout: float = PUSH_TIMEOUT,
        push_attempts: int = PUSH_ATTEMPTS,
        history: Path | None = None,
    ) -> None:
        log = ChatLog(history)
        self.state = PlatformState(appid=appid, secret=secret, clock=clock, log=log)
        self.crypto = MessageCrypto(token, encoding_aes_key, appid)
        self.pusher = Pusher(
            crypto=self.crypto,
            token=token,
            callback_url=callback_url,
            mode=mode,
            clock=clock,
            timeout=push_timeout,
            attempts=push_attempts,
        )
        self.base_url: str | None = None  # set by start_simulator; PicUrl points here
        self.faults = Faults()  # what the API does wrong, when a test asks (faults.py)

    def __repr__(self) -> str:
        return f"Simulator(appid={self.state.appid!r}, mode={self.pusher.mode!r})"

    @property
    def token_requests(self) -> int:
        """How many times /cgi-bin/token was called."""
        return self.state.token_requests

    def expire_tokens(self) -> None:
        """Every access token issued so far now answers 42001."""
        self.state.expire_tokens()

    def messages(self, openid: str, after: int = 0) -> list[ChatEntry]:
        return self.state.messages(openid, after)

    async def close(self) -> None:
        await self.pusher.close()
        self.state.log.close()

    async def store_photo(self, data: bytes, content_type: str) -> str:
        """Keep a photo as temporary media, with the preview a kept conversation shows later."""
        kept = None
        if self.state.log.keeps_pictures:  # off the loop: a large PNG takes a while to shrink
            kept = await asyncio.to_thread(preview, data, content_type)
        return self.state.store_media(data, content_type, kept)

    async def push_text(self, openid: str, text: str) -> PushResult:
        return await self.push({"FromUserName": openid, "MsgType": "text", "Content": text})

    async def push_image(self, openid: str, image: bytes) -> PushResult:
        """Store the photo as temporary media and push an image message pointing at it."""
        media_id = await self.store_photo(image, sniff_image(image))
        base = self.base_url or "http://127.0.0.1"
        fields = {
            "FromUserName": openid,
            "MsgType": "image",
            "PicUrl": f"{base}/chat/media/{media_id}",
            "MediaId": media_id,
        }
        return await self.push(fields)

    async def push_event(self, openid: str, event: str, key: str | None = None) -> PushResult:
        fields = {"FromUserName": openid, "MsgType": "event", "Event": event}
        if key is not None:
            fields["EventKey"] = key
        return await self.push(fields)

    async def push(self, fields: Mapping[str, str]) -> PushResult:
        """Push a message or event from ``fields["FromUserName"]`` as WeChat would."""
        openid, msg_type = fields["FromUserName"], fields["MsgType"]
        now = self.state.clock()
        message = {
            "ToUserName": ACCOUNT_ID,
            "FromUserName": openid,
            "CreateTime": str(int(now.timestamp())),
            "MsgType": msg_type,
            **{k: v for k, v in fields.items() if k not in ("FromUserName", "MsgType")},
        }
        if msg_type != "event":
            message.setdefault("MsgId", self.state.next_msgid())
        if message.get("Event") == "unsubscribe":
            self.state.user_left(openid)
        else:
            self.state.user_acted(openid)
        self._record_inbound(openid, message)
        result = await self.pusher.deliver(
            inner_xml(message), openid=openid, msg_id=message.get("MsgId")
        )
        if result.error is not None:
            self.state.record(openid, "notice", "text", "platform", text=UNAVAILABLE)
        elif result.reply is not None:
            self._record_reply(openid, result.reply)
        return result

    def _record_inbound(self, openid: str, message: Mapping[str, str]) -> None:
        kind = message["MsgType"]
        if kind == "text":
            self.state.record(openid, "user", "text", "inbound", text=message.get("Content", ""))
        elif kind == "image":
            self.state.record(openid, "user", "image", "inbound", media_id=message.get("MediaId"))
        elif kind == "event":
            event = message.get("Event", "")
            label = self.state.menu_label(message.get("EventKey"))
            text = f"你点击了菜单「{label}」" if event == "CLICK" and label else None
            text = text or _EVENT_TEXT.get(event, f"事件 {event}")
            self.state.record(openid, "notice", "event", "inbound", text=text)
        else:
            self.state.record(openid, "user", kind, "inbound", text=f"[{kind}]")

    def _record_reply(self, openid: str, reply: XmlFields) -> None:
        kind = str(reply.get("MsgType", ""))
        record = self.state.record
        if kind == "text":
            record(openid, "account", "text", "reply", text=_text(reply.get("Content")))
        elif kind == "image" and isinstance(reply.get("Image"), dict):
            media_id = _text(reply["Image"].get("MediaId"))
            record(openid, "account", "image", "reply", media_id=media_id)
        elif kind == "news" and isinstance(reply.get("Articles"), dict):
            items = reply["Articles"].get("item")
            for item in items if isinstance(items, list) else [items]:
                if isinstance(item, dict):
                    fields = {k: _text(item.get(k)) for k in ("Title", "Description")}
                    url = _text(item.get("Url")) or None
                    record(openid, "account", "news", "reply", fields=fields, url=url)
        else:
            record(openid, "account", "text", "reply", text=f"[{kind}]")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


SIMULATOR = web.AppKey("wechat_simulator", Simulator)
