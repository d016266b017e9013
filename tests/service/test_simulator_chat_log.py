"""The simulator's kept conversations stay small: the newest lines, users and photos only."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from bot.simulator.chat_log import ChatEntry, ChatLog, preview


def line(openid: str, text: str = "你好", media_id: str | None = None) -> ChatEntry:
    kind = "image" if media_id else "text"
    return ChatEntry(0, openid, "user", kind, "inbound", text=text, media_id=media_id)


def jpeg(width: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, width // 2), (10, 200, 90)).save(out, "JPEG")
    return out.getvalue()


def test_a_long_chat_keeps_its_newest_lines_and_numbers_on_after_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chats.sqlite3"
    log = ChatLog(path, per_user=3)
    for n in range(500):
        log.append(line("o_a", f"第{n}条"))
    log.close()
    again = ChatLog(path, per_user=3)
    assert [e.text for e in again.messages("o_a")] == ["第497条", "第498条", "第499条"]
    assert again.append(line("o_a")).seq == 501
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM lines").fetchone()[0] == 3  # the file, too


def test_the_oldest_conversation_goes_when_too_many_users_chatted(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    log = ChatLog(path, users=2)
    for openid in ("o_a", "o_b", "o_a", "o_c"):  # o_b spoke last longest ago
        log.acted(openid, datetime.now(UTC))
        log.append(line(openid))
    log.close()
    again = ChatLog(path, users=2)
    assert again.messages("o_b") == [] and "o_b" not in again.last_act
    assert len(again.messages("o_a")) == 2 and len(again.messages("o_c")) == 1


def test_only_the_newest_photos_keep_a_preview(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    log = ChatLog(path, pictures=1)
    for media_id in ("m1", "m2"):
        log.append(line("o_a", "", media_id), preview(jpeg(2000), "image/jpeg"))
    log.close()
    again = ChatLog(path, pictures=1)
    old, new = again.messages("o_a")
    assert (old.media_id, old.text) == (None, "[图片]")  # says what it was, no broken image
    assert new.media_id == "m2"
    kept = again.picture("m2")
    assert kept is not None and Image.open(io.BytesIO(kept.data)).size == (480, 240)
    assert again.picture("m1") is None


def test_without_a_file_nothing_is_written_and_no_preview_is_made(tmp_path: Path) -> None:
    log = ChatLog()
    log.append(line("o_a"))
    assert not log.keeps_pictures and log.messages("o_a")[0].seq == 1
    assert list(tmp_path.iterdir()) == []
