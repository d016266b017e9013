"""Demo processes on one data directory share the demo's made-up credentials, so a token or a
WeChat push signed for one is taken by the other (``buchumen serve --demo`` twice)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.settings import Settings, SettingsError, load_settings
from app.wiring.wechat import DEMO_ACCOUNT_FILE, demo_account


def demo(data_dir: Path, port: int) -> Settings:
    return load_settings({}, demo=True, data_dir=data_dir, port=port, wechat_simulator_port=0)


def test_two_demo_processes_on_one_data_dir_share_jwt_secret_and_wechat_account(
    tmp_path: Path,
) -> None:
    first, second = demo(tmp_path / "var", 8080), demo(tmp_path / "var", 8082)
    assert first.jwt_key == second.jwt_key
    assert demo_account(first) == demo_account(second)
    token, aes_key, appid, secret = demo_account(first)
    assert len(aes_key) == 43 and aes_key.isalnum()
    assert appid.startswith("wx") and len(appid) == 18 and token and secret


def test_another_data_dir_is_another_demo_account(tmp_path: Path) -> None:
    assert demo_account(demo(tmp_path / "a", 8080)) != demo_account(demo(tmp_path / "b", 8080))


def test_processes_starting_together_agree_on_the_account(tmp_path: Path) -> None:
    settings = demo(tmp_path / "var", 8080)
    start = threading.Barrier(8)
    seen: list[tuple[str, str, str, str]] = []

    def one() -> None:
        start.wait()
        seen.append(demo_account(settings))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and len(set(seen)) == 1


def test_a_damaged_account_file_is_one_clear_line(tmp_path: Path) -> None:
    settings = demo(tmp_path / "var", 8080)
    (settings.data_dir / DEMO_ACCOUNT_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"BUCHUMEN_DATA_DIR: cannot keep the demo WeChat"):
        demo_account(settings)
