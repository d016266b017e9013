"""Links in chat text: WeChat shows ``<a href="...">label</a>`` in a text message as a tappable
label, where a bare URL (with its port and path) is long and easy to mistype."""

from __future__ import annotations

from html import escape

from bot.wire import MAX_TEXT_BYTES


def link(url: str, label: str) -> str:
    return f'<a href="{escape(url, quote=True)}">{escape(label, quote=False)}</a>'


def fits(text: str) -> bool:
    """Whether WeChat delivers ``text`` whole (it cuts a text message at 2,048 bytes)."""
    return len(text.encode("utf-8")) <= MAX_TEXT_BYTES
