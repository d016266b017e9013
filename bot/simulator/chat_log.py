"""What the phone keeps of each conversation: its lines, photo previews and the 48-hour window.

WeChat keeps a chat on the phone however often the account restarts, so the demo's simulator
keeps it in a small SQLite file (``path``); without one (the tests) it lives in memory only.
Bounded either way: the newest ``per_user`` lines of the newest ``users`` conversations, and
previews of the last ``pictures`` photos of each; an older photo reads "[图片]" after a restart.

The file is written synchronously: a line is a few hundred bytes on a local disk, and the
tests and the chat page read the conversation without awaiting anything.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from PIL import Image, ImageOps

Side = Literal["user", "account", "notice"]

PER_USER, USERS, PICTURES = 200, 50, 20
PREVIEW_PX = 480  # the chat page shows a photo at most 60 % of a phone's width
RAW_PREVIEW_BYTES = 256 * 1024  # a photo no preview can be made of is kept up to this size
SCHEMA = """
CREATE TABLE IF NOT EXISTS lines (
    seq INTEGER PRIMARY KEY, openid TEXT NOT NULL, entry TEXT NOT NULL,
    media_id TEXT, picture BLOB, picture_type TEXT);
CREATE INDEX IF NOT EXISTS lines_by_user ON lines (openid, seq);
CREATE INDEX IF NOT EXISTS lines_by_media ON lines (media_id);
CREATE TABLE IF NOT EXISTS windows (openid TEXT PRIMARY KEY, last_act TEXT NOT NULL);
"""


@dataclass(frozen=True)
class ChatEntry:
    """One line of a conversation as the phone shows it, in order of ``seq``."""

    seq: int
    openid: str
    side: Side
    kind: str  # text | image | event | template | reply-other
    source: str  # inbound | reply | custom | template | platform
    text: str = ""
    media_id: str | None = None
    url: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # template field -> label shown
    at: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["media_url"] = f"/chat/media/{self.media_id}" if self.media_id else None
        return data


@dataclass(frozen=True)
class Picture:
    data: bytes
    content_type: str


def preview(data: bytes, content_type: str) -> Picture | None:
    """A small JPEG of a photo as the phone shows it (upright, no EXIF, so no location)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (PREVIEW_PX, PREVIEW_PX))  # JPEG: decode at the size needed
            upright = ImageOps.exif_transpose(image).convert("RGB")
            upright.thumbnail((PREVIEW_PX, PREVIEW_PX))
            out = io.BytesIO()
            upright.save(out, "JPEG", quality=75)
            return Picture(out.getvalue(), "image/jpeg")
    except (OSError, ValueError, Image.DecompressionBombError):
        return Picture(data, content_type) if len(data) <= RAW_PREVIEW_BYTES else None


class ChatLog:
    """Each user's conversation in ``seq`` order, kept in ``path`` if given."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        per_user: int = PER_USER,
        users: int = USERS,
        pictures: int = PICTURES,
    ) -> None:
        self._per_user, self._users, self._pictures = per_user, users, pictures
        self._chats: dict[str, list[ChatEntry]] = {}
        self.last_act: dict[str, datetime] = {}  # the user's last message, click or follow
        self.last = 0  # the newest seq ever given: it keeps growing across restarts
        self._db: sqlite3.Connection | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + SCHEMA)
            self._load(self._db)

    @property
    def keeps_pictures(self) -> bool:
        """Whether photos need a preview made: only a kept conversation shows them later."""
        return self._db is not None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def messages(self, openid: str, after: int = 0) -> list[ChatEntry]:
        return [e for e in self._chats.get(openid, []) if e.seq > after]

    def append(self, entry: ChatEntry, picture: Picture | None = None) -> ChatEntry:
        """Keep ``entry`` (its ``seq`` given here), then forget what is past the bounds."""
        self.last += 1
        entry = replace(entry, seq=self.last)
        chat = self._chats.pop(entry.openid, [])  # re-inserted: the dict is oldest chat first
        self._chats[entry.openid] = [*chat, entry][-self._per_user :]
        dropped = list(self._chats)[: -self._users]
        for openid in dropped:
            del self._chats[openid]
        if self._db is None:
            return entry
        with _transaction(self._db) as db:
            blob, kind = (picture.data, picture.content_type) if picture else (None, None)
            db.execute(
                "INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?)",
                (entry.seq, entry.openid, _dump(entry), entry.media_id, blob, kind),
            )
            oldest_kept = self._chats[entry.openid][0].seq
            db.execute(
                "DELETE FROM lines WHERE openid = ? AND seq < ?", (entry.openid, oldest_kept)
            )
            db.execute(
                "UPDATE lines SET picture = NULL, picture_type = NULL WHERE openid = ? AND seq IN"
                " (SELECT seq FROM lines WHERE openid = ? AND picture IS NOT NULL"
                "  ORDER BY seq DESC LIMIT -1 OFFSET ?)",
                (entry.openid, entry.openid, self._pictures),
            )
            for openid in dropped:
                db.execute("DELETE FROM lines WHERE openid = ?", (openid,))
                db.execute("DELETE FROM windows WHERE openid = ?", (openid,))
        return entry

    def picture(self, media_id: str) -> Picture | None:
        """The kept preview of a photo in a conversation, if still kept."""
        if self._db is None:
            return None
        row = self._db.execute(
            "SELECT picture, picture_type FROM lines WHERE media_id = ? AND picture IS NOT NULL",
            (media_id,),
        ).fetchone()
        return Picture(row[0], row[1]) if row else None

    def acted(self, openid: str, at: datetime) -> None:
        self.last_act[openid] = at
        if self._db is not None:
            self._db.execute(
                "INSERT INTO windows VALUES (?, ?) ON CONFLICT (openid) DO UPDATE SET"
                " last_act = excluded.last_act",
                (openid, at.isoformat()),
            )

    def left(self, openid: str) -> None:
        """Unfollowed: no customer-service message reaches them until they act again."""
        self.last_act.pop(openid, None)
        if self._db is not None:
            self._db.execute("DELETE FROM windows WHERE openid = ?", (openid,))

    def _load(self, db: sqlite3.Connection) -> None:
        self.last = db.execute("SELECT coalesce(max(seq), 0) FROM lines").fetchone()[0]
        rows = db.execute("SELECT entry, picture IS NOT NULL FROM lines ORDER BY seq").fetchall()
        by_user: dict[str, list[ChatEntry]] = {}
        for text, has_picture in rows:
            entry = ChatEntry(**json.loads(text))
            if entry.media_id and not has_picture:
                entry = replace(entry, media_id=None, text="[图片]")
            by_user.setdefault(entry.openid, []).append(entry)
        # Oldest conversation first, as append keeps them.
        for openid, chat in sorted(by_user.items(), key=lambda item: item[1][-1].seq):
            self._chats[openid] = chat
        for openid, at in db.execute("SELECT openid, last_act FROM windows"):
            self.last_act[openid] = datetime.fromisoformat(at)


def _dump(entry: ChatEntry) -> str:
    return json.dumps(asdict(entry), ensure_ascii=False)


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN ... COMMIT, or ROLLBACK on an error: a line and its bounds land together."""
    db.execute("BEGIN")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
