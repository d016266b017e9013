"""Inbound WeChat messages and events: from parsed XML fields to one typed, immutable value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.errors import MalformedMessage

__all__ = ["KINDS", "Inbound", "parse_inbound"]

KINDS = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link", "event"})
_CREATE_TIME = re.compile(r"[0-9]{1,15}")
_QR_SCENE_PREFIX = "qrscene_"  # subscribing through a parametric QR code prefixes its scene


@dataclass(frozen=True)
class Inbound:
    """One message or event pushed to the account; anything not named here stays in ``raw``."""

    kind: str
    from_user: str
    to_user: str
    create_time: int
    msg_id: str | None = None
    # Content may carry an ID number or a name (PIPL): keep it out of reprs and so out of logs.
    content: str | None = field(default=None, repr=False)
    media_id: str | None = None
    pic_url: str | None = None
    event: str | None = None
    event_key: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def dedup_key(self) -> str:
        """WeChat's rule for retries: MsgId for messages, FromUserName + CreateTime for events."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        key = f"evt:{self.from_user}:{self.create_time}:{self.event or ''}:{self.event_key or ''}"
        # Template and mass-send reports carry their own MsgID: two in one second stay distinct.
        job = self.raw.get("MsgID")
        return f"{key}:{job}" if isinstance(job, str) and job else key

    @property
    def qr_scene(self) -> str | None:
        """The scene of the parametric QR code behind a subscribe or scan event, if any."""
        if self.event not in ("subscribe", "scan") or not self.event_key:
            return None
        return self.event_key.removeprefix(_QR_SCENE_PREFIX)


def parse_inbound(fields: Mapping[str, Any]) -> Inbound:
    """Read the fields of one push; MalformedMessage if a required field is missing or bad."""
    to_user = _required(fields, "ToUserName")
    from_user = _required(fields, "FromUserName")
    create_time = _required(fields, "CreateTime")
    if not _CREATE_TIME.fullmatch(create_time):
        raise MalformedMessage("CreateTime is not a whole number of seconds")
    msg_type = _required(fields, "MsgType").lower()
    kind = msg_type if msg_type in KINDS else "unknown"
    event = _optional(fields, "Event") if kind == "event" else None
    return Inbound(
        kind=kind,
        from_user=from_user,
        to_user=to_user,
        create_time=int(create_time),
        msg_id=_optional(fields, "MsgId") or None,
        content=_optional(fields, "Content"),
        media_id=_optional(fields, "MediaId"),
        pic_url=_optional(fields, "PicUrl"),
        event=event.strip().lower() if event else None,
        event_key=_optional(fields, "EventKey") if kind == "event" else None,
        raw=MappingProxyType(dict(fields)),
    )


def _required(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise MalformedMessage(f"{name} is missing")
    return value.strip()


def _optional(fields: Mapping[str, Any], name: str) -> str | None:
    # A nested element where text belongs is odd, not fatal: leave it to ``raw``.
    value = fields.get(name)
    return value if isinstance(value, str) else None
