"""What the simulated WeChat platform remembers: tokens, media, OAuth codes, the conversation.

In memory on purpose: the simulator plays the remote platform, not our service; only the
conversation, which the phone keeps, may be kept in a file (``ChatLog``). Every rule that
WeChat enforces with an errcode raises ``PlatformError`` with WeChat's code and message.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.simulator.chat_log import ChatEntry, ChatLog, Picture, Side

Clock = Callable[[], datetime]

ACCOUNT_ID = "gh_buchumen"  # the account's original id (原始ID), ToUserName of every push
ACCOUNT_NAME = "不出门办"
DEMO_OPENID = "o_demo_zhangsan"
TOKEN_TTL = timedelta(seconds=7200)
TOKEN_OVERLAP = timedelta(minutes=5)  # a new token leaves the old one valid this long
SERVICE_WINDOW = timedelta(hours=48)  # customer-service messages after the user's last act
CODE_TTL = timedelta(minutes=5)
MEDIA_TTL = timedelta(days=3)
DEFAULT_MENU: dict[str, Any] = {
    "button": [
        {"type": "click", "name": "我要办", "key": "MENU_APPLY"},
        {"type": "click", "name": "查询进度", "key": "MENU_QUERY"},
        {"type": "click", "name": "我的材料", "key": "MENU_SPACE"},
    ]
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class PlatformError(Exception):
    """A WeChat API refusal: ``{"errcode": errcode, "errmsg": errmsg}``."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass(frozen=True)
class Media:
    data: bytes
    content_type: str
    created_at: datetime
    preview: Picture | None = None  # what a kept conversation shows of it after a restart


class PlatformState:
    """Tokens, media, OAuth codes, menu, the 48-hour window, and every chat entry."""

    def __init__(
        self, *, appid: str, secret: str, clock: Clock = utcnow, log: ChatLog | None = None
    ) -> None:
        self.appid = appid
        self._secret = secret
        self.clock = clock
        self.tokens: dict[str, datetime] = {}
        self.token_requests = 0
        self.media: dict[str, Media] = {}
        self.menu: dict[str, Any] = DEFAULT_MENU
        # template_id -> {field: label}, what the account configured on mp.weixin.qq.com
        self.template_labels: dict[str, dict[str, str]] = {}
        self.log = log or ChatLog()
        self._codes: dict[str, tuple[str, datetime, bool]] = {}
        self._msgids = 24_000_000_000_000_000 + secrets.randbelow(10**15)

    # -- credentials -------------------------------------------------------------------------

    def issue_token(self, grant_type: str, appid: str, secret: str) -> tuple[str, int]:
        self.token_requests += 1
        self.check_app(appid, secret)
        if grant_type != "client_credential":
            raise PlatformError(40002, "invalid grant_type")
        now = self.clock()
        for token, expires in self.tokens.items():
            self.tokens[token] = min(expires, now + TOKEN_OVERLAP)
        token = secrets.token_urlsafe(48)
        self.tokens[token] = now + TOKEN_TTL
        return token, int(TOKEN_TTL.total_seconds())

    def check_app(self, appid: str, secret: str) -> None:
        if not secrets.compare_digest(appid.encode(), self.appid.encode()):
            raise PlatformError(40013, "invalid appid")
        if not secrets.compare_digest(secret.encode(), self._secret.encode()):
            raise PlatformError(40125, "invalid appsecret")

    def check_token(self, token: str | None) -> None:
        if not token:
            raise PlatformError(41001, "access_token missing")
        expires = self.tokens.get(token)
        if expires is None:
            raise PlatformError(40001, "invalid credential, access_token is invalid or not latest")
        if expires <= self.clock():
            raise PlatformError(42001, "access_token expired")

    def expire_tokens(self) -> None:
        """Test hook: every token issued so far now answers 42001."""
        now = self.clock()
        self.tokens = {token: now for token in self.tokens}

    # -- media and OAuth ---------------------------------------------------------------------

    def store_media(
        self, data: bytes, content_type: str = "image/jpeg", preview: Picture | None = None
    ) -> str:
        media_id = secrets.token_urlsafe(32)
        self.media[media_id] = Media(data, content_type, self.clock(), preview)
        return media_id

    def get_media(self, media_id: str) -> Media:
        media = self.media.get(media_id)
        if media is None or media.created_at + MEDIA_TTL <= self.clock():
            raise PlatformError(40007, "invalid media_id")
        return media

    def picture(self, media_id: str) -> Picture:
        """A photo as the chat shows it: the media while it lives, then the kept preview."""
        media = self.media.get(media_id)
        if media is not None:
            return Picture(media.data, media.content_type)
        kept = self.log.picture(media_id)
        if kept is None:
            raise PlatformError(40007, "invalid media_id")
        return kept

    def issue_code(self, openid: str) -> str:
        code = secrets.token_urlsafe(24)
        self._codes[code] = (openid, self.clock() + CODE_TTL, False)
        return code

    def redeem_code(self, code: str) -> str:
        """The openid behind an OAuth code; a code works once, within 5 minutes."""
        found = self._codes.get(code)
        if found is None:
            raise PlatformError(40029, "invalid code")
        openid, expires, used = found
        if used:
            raise PlatformError(40163, "code been used")
        if expires <= self.clock():
            raise PlatformError(40029, "invalid code")
        self._codes[code] = (openid, expires, True)
        return openid

    # -- the conversation --------------------------------------------------------------------

    def next_msgid(self) -> str:
        self._msgids += 1
        return str(self._msgids)

    def user_acted(self, openid: str) -> None:
        """A message, menu click or subscription opens the 48-hour customer-service window."""
        self.log.acted(openid, self.clock())

    def user_left(self, openid: str) -> None:
        self.log.left(openid)

    def check_window(self, openid: str) -> None:
        last = self.log.last_act.get(openid)
        if last is None or last + SERVICE_WINDOW <= self.clock():
            raise PlatformError(45015, "response out of time limit or subscription is canceled")

    def record(self, openid: str, side: Side, kind: str, source: str, **extra: Any) -> ChatEntry:
        entry = ChatEntry(
            seq=0,  # the log numbers it
            openid=openid,
            side=side,
            kind=kind,
            source=source,
            at=self.clock().astimezone(UTC).isoformat(timespec="seconds"),
            **extra,
        )
        media = self.media.get(entry.media_id) if entry.media_id else None
        return self.log.append(entry, media.preview if media else None)

    def messages(self, openid: str, after: int = 0) -> list[ChatEntry]:
        """The conversation with ``openid`` after ``seq`` ``after``, oldest first."""
        return self.log.messages(openid, after)

    def menu_label(self, key: str | None) -> str | None:
        for button in self.menu.get("button", []):
            for item in [button, *button.get("sub_button", [])]:
                if key is not None and item.get("key") == key:
                    return str(item.get("name", key))
        return None
