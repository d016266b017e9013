"""The official account's custom menu, as WeChat's /cgi-bin/menu/create expects it."""

from __future__ import annotations

from typing import Any


def account_menu(public_base_url: str) -> dict[str, Any]:
    """Three buttons: apply, progress, and a sub-menu; click keys match bot.dialogues.MENU_WORDS."""
    return {
        "button": [
            {"type": "click", "name": "我要办", "key": "MENU_APPLY"},
            {"type": "click", "name": "查询进度", "key": "MENU_QUERY"},
            {
                "name": "我的",
                "sub_button": [
                    {"type": "view", "name": "我的办件", "url": f"{public_base_url}/h5/cases"},
                    {"type": "click", "name": "我的材料", "key": "MENU_SPACE"},
                    {"type": "click", "name": "帮助", "key": "MENU_HELP"},
                ],
            },
        ]
    }
