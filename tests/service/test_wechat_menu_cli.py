"""``buchumen wechat menu`` creates the account menu through the (simulated) WeChat API."""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from bot.simulator import create_simulator, start_simulator
from bot.simulator.simulator import SIMULATOR, Simulator

TOKEN, AES = "menu-token", "a" * 43
APPID, SECRET = "wx" + secrets.token_hex(8), secrets.token_hex(16)


@pytest.fixture
def platform() -> Iterator[tuple[Simulator, str]]:
    """The simulator on its own loop in a thread: the CLI runs its own asyncio.run()."""
    loop = asyncio.new_event_loop()
    app = create_simulator(
        token=TOKEN, encoding_aes_key=AES, appid=APPID, secret=SECRET, callback_url="http://x"
    )
    started = threading.Event()
    box: dict[str, object] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        box["runner"], box["url"] = loop.run_until_complete(start_simulator(app))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started.wait(10)
    yield app[SIMULATOR], str(box["url"])
    asyncio.run_coroutine_threadsafe(box["runner"].cleanup(), loop).result(10)  # type: ignore[attr-defined]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_the_menu_command_creates_the_three_button_menu(
    platform: tuple[Simulator, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, url = platform
    for key in [k for k in os.environ if k.startswith("BUCHUMEN_")]:
        monkeypatch.delenv(key)
    env = {
        "DATA_DIR": str(tmp_path),
        "JWT_SECRET": "j" * 40,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_ENCODING_AES_KEY": AES,
        "WECHAT_APPID": APPID,
        "WECHAT_APPSECRET": SECRET,
        "WECHAT_API_BASE_URL": url,
        "WECHAT_OPEN_BASE_URL": url,
    }
    for key, value in env.items():
        monkeypatch.setenv(f"BUCHUMEN_{key}", value)
    assert main(["wechat", "menu"]) == 0
    names = [b["name"] for b in sim.state.menu["button"]]
    assert names == ["我要办", "我要预约", "我的"]


def test_the_menu_command_refuses_without_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in [k for k in os.environ if k.startswith("BUCHUMEN_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("BUCHUMEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BUCHUMEN_JWT_SECRET", "j" * 40)
    assert main(["wechat", "menu"]) == 1
    assert "BUCHUMEN_WECHAT" in capsys.readouterr().err
