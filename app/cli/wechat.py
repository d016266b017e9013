"""``buchumen wechat menu``: official-account administration."""

from __future__ import annotations

import argparse
import asyncio

from app.cli.common import console, settings_of
from app.settings import SettingsError


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    wechat = sub.add_parser("wechat", help="official-account administration")
    wechat.add_argument("action", choices=["menu"], help="menu: create the account's menu")
    wechat.set_defaults(func=cmd_wechat)


def cmd_wechat(args: argparse.Namespace) -> int:
    import aiohttp

    from app.wiring.stores import open_documents
    from app.wiring.wechat import configured_credentials, wechat_client
    from bot.menu import account_menu

    settings = settings_of(args)
    if not settings.wechat_configured:
        raise SettingsError(["BUCHUMEN_WECHAT_TOKEN: set the account's BUCHUMEN_WECHAT_* first"])
    creds = configured_credentials(settings)

    async def run() -> None:
        async with open_documents(settings) as store, aiohttp.ClientSession() as session:
            client = wechat_client(session, store, creds)
            await client.create_menu(account_menu(settings.public_base_url))

    asyncio.run(run())
    console.print("[green]menu created[/]: 我要办 · 查询进度 · 我的（我的办件、我的材料、帮助）")
    return 0
