"""Composition of the WeChat side: credentials, demo-mode simulator, client, endpoint."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

import aiohttp
import structlog
from aiohttp import web

from app import keys
from app.settings import Settings, SettingsError, kept_value
from bot.callback import WeChatEndpoint
from bot.client import WeChatClient
from bot.crypto import MessageCrypto
from bot.dialogues import Dialogues
from bot.identity import IdentityDialogue
from bot.menu import account_menu
from bot.messenger import Messenger
from bot.oauth import WeChatSignIn
from bot.token_cache import TokenCache
from storage.documents import DocumentStore

log = structlog.get_logger(__name__)
SIMULATOR_CHATS = "wechat-simulator-chats.sqlite3"  # in the data directory, demo mode only
DEMO_ACCOUNT_FILE = "demo-wechat-account.json"  # likewise: the demo account's credentials


@dataclass(frozen=True)
class WeChatCredentials:
    token: str
    encoding_aes_key: str
    appid: str
    secret: str
    api_base_url: str
    open_base_url: str

    def __repr__(self) -> str:
        return f"WeChatCredentials(appid={self.appid!r}, ...)"


def wechat_client(
    session: aiohttp.ClientSession, store: DocumentStore, creds: WeChatCredentials
) -> WeChatClient:
    return WeChatClient(
        session,
        base_url=creds.api_base_url,
        open_base_url=creds.open_base_url,
        appid=creds.appid,
        secret=creds.secret,
        tokens=TokenCache(store, creds.appid),
    )


def configured_credentials(settings: Settings) -> WeChatCredentials:
    # Settings validation guarantees all four once one is given.
    assert settings.wechat_token and settings.wechat_encoding_aes_key
    assert settings.wechat_appid and settings.wechat_appsecret
    return WeChatCredentials(
        token=settings.wechat_token.get_secret_value(),
        encoding_aes_key=settings.wechat_encoding_aes_key.get_secret_value(),
        appid=settings.wechat_appid,
        secret=settings.wechat_appsecret.get_secret_value(),
        api_base_url=settings.wechat_api_base_url,
        open_base_url=settings.wechat_open_base_url,
    )


def demo_account(settings: Settings) -> tuple[str, str, str, str]:
    """The demo account's token, AES key, appid and secret, made once per data directory:
    every demo process on it (``buchumen serve --demo`` twice) signs and decrypts alike."""
    alphabet = string.ascii_letters + string.digits
    fresh = {
        "token": secrets.token_urlsafe(24),
        "encoding_aes_key": "".join(secrets.choice(alphabet) for _ in range(43)),
        "appid": "wx" + secrets.token_hex(8),
        "secret": secrets.token_hex(16),
    }
    path = settings.data_dir / DEMO_ACCOUNT_FILE
    try:
        kept = json.loads(kept_value(path, json.dumps(fresh)))
        return kept["token"], kept["encoding_aes_key"], kept["appid"], kept["secret"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        problem = f"cannot keep the demo WeChat account in {path}: {exc}"
        raise SettingsError([f"BUCHUMEN_DATA_DIR: {problem}"]) from exc


async def start_demo_simulator(settings: Settings) -> tuple[WeChatCredentials, web.AppRunner]:
    """A local WeChat platform on 127.0.0.1 with the data directory's demo account."""
    from bot.simulator import create_simulator, start_simulator

    token, aes_key, appid, secret = demo_account(settings)
    simulator = create_simulator(
        token=token,
        encoding_aes_key=aes_key,
        appid=appid,
        secret=secret,
        callback_url=f"{settings.public_base_url}/wechat",
        history=settings.data_dir / SIMULATOR_CHATS,  # the chat page survives a restart
    )
    runner, url = await start_simulator(simulator, port=settings.wechat_simulator_port)
    return WeChatCredentials(token, aes_key, appid, secret, url, url), runner


def wechat_ctx(
    settings: Settings, clock: Callable[[], datetime]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context: WeChat client, messenger and endpoint (and, in demo, the simulator)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        simulator_runner = None
        if settings.wechat_configured:
            creds = configured_credentials(settings)
        elif settings.demo:
            creds, simulator_runner = await start_demo_simulator(settings)
            app[keys.WECHAT_SIMULATOR_URL] = creds.api_base_url
            log.info("wechat_simulator_started", chat=f"{creds.api_base_url}/chat")
        else:
            raise SettingsError(
                [
                    "BUCHUMEN_WECHAT_TOKEN: required to serve (with _ENCODING_AES_KEY, _APPID, "
                    "_APPSECRET), unless BUCHUMEN_DEMO=true"
                ]
            )
        store = app[keys.DOCUMENTS]
        async with aiohttp.ClientSession() as session:
            client = wechat_client(session, store, creds)
            dialogues = Dialogues(
                store,
                app[keys.CASES],
                app[keys.CALENDAR],
                app[keys.SPACE],
                app[keys.APPOINTMENTS],
                IdentityDialogue(app[keys.BINDING], app[keys.MANDATES], settings.public_base_url),
                clock=clock,
            )
            app[keys.WECHAT_CLIENT] = client
            app[keys.SIGN_IN] = WeChatSignIn(client)
            app[keys.WECHAT] = WeChatEndpoint(
                token=creds.token,
                crypto=MessageCrypto(creds.token, creds.encoding_aes_key, creds.appid),
                dialogues=dialogues,
                store=store,
                clock=clock,
            )
            app[keys.MESSENGER] = Messenger(
                client,
                store,
                app[keys.CASES],
                app[keys.MATERIALS],
                app[keys.SPACE],
                app[keys.MANDATES],
                public_base_url=settings.public_base_url,
                template_id=settings.wechat_template_id,
                clock=clock,
            )
            if simulator_runner is not None:
                await client.create_menu(account_menu(settings.public_base_url))
            yield
        if simulator_runner is not None:
            await simulator_runner.cleanup()

    return ctx
