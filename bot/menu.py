"""The official account's custom menu, as WeChat's /cgi-bin/menu/create expects it."""

from __future__ import annotations

from typing import Any

# WeChat refuses more than 3 buttons, 5 sub-buttons each, or names over 16 bytes (a button) and
# 60 bytes (a sub-button); the phone shows 4 and 8 characters and cuts the rest to "...". The
# simulator enforces all of it, so the tests that create this menu there hold it to them.


def account_menu(public_base_url: str) -> dict[str, Any]:
    """Apply and book one tap away, the rest under 我的; click keys are bot.dialogues.MENU_WORDS."""
    return {
        "button": [
            {"type": "click", "name": "我要办", "key": "MENU_APPLY"},
            {"type": "click", "name": "我要预约", "key": "MENU_BOOK"},
            {
                "name": "我的",
                "sub_button": [
                    {"type": "click", "name": "查询进度", "key": "MENU_QUERY"},
                    {"type": "view", "name": "我的办件", "url": f"{public_base_url}/h5/cases"},
                    {"type": "click", "name": "我的材料", "key": "MENU_SPACE"},
                    {"type": "click", "name": "帮助", "key": "MENU_HELP"},
                ],
            },
        ]
    }
