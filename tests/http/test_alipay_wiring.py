"""The app factory's Alipay side: demo mode plays Alipay locally; real settings need key files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from app import keys
from app.main import create_app
from app.settings import Settings, SettingsError, load_settings
from payments import PaymentOrder, TradeNotFound
from payments.signing import new_key_pair, private_key_pem, public_key_pem


async def test_demo_mode_pays_through_a_local_alipay_with_keys_of_its_own(
    settings: Settings, aiohttp_client
):
    client: TestClient = await aiohttp_client(create_app(settings))
    app = client.app
    assert app is not None
    gateway, account = app[keys.PAYMENTS], app[keys.ALIPAY]
    gateway_url = app[keys.ALIPAY_SIMULATOR_URL]
    assert gateway_url.startswith("http://127.0.0.1:") and gateway_url.endswith("/gateway.do")

    order = PaymentOrder("BCM-DEMO-1", 100, "测试", datetime.now(UTC) + timedelta(minutes=5))
    url = await gateway.create_payment(order, notify_url="", return_url="")
    with pytest.raises(TradeNotFound):
        await gateway.query(order.out_trade_no)
    async with aiohttp.ClientSession() as browser, browser.get(url) as page:
        assert "付款" in await page.text()
    assert (await gateway.query(order.out_trade_no)).total_fen == 100
    assert account.app_id and account.seller_id.startswith("2088")


def test_alipay_settings_come_all_together_with_readable_key_files(tmp_path: Path):
    key = new_key_pair()
    private, public = tmp_path / "app_private_key.pem", tmp_path / "alipay_public_key.pem"
    private.write_text(private_key_pem(key))
    public.write_text(public_key_pem(new_key_pair().public_key()))
    env = {
        "BUCHUMEN_ALIPAY_APP_ID": "2021000122600001",
        "BUCHUMEN_ALIPAY_SELLER_ID": "2088102180123456",
        "BUCHUMEN_ALIPAY_PRIVATE_KEY_FILE": str(private),
        "BUCHUMEN_ALIPAY_PUBLIC_KEY_FILE": str(public),
        "BUCHUMEN_ALIPAY_GATEWAY_URL": "https://openapi-sandbox.dl.alipaydev.com/gateway.do",
    }
    settings = load_settings(env, demo=True, data_dir=tmp_path)
    assert settings.alipay_configured
    assert "alipaydev" in settings.alipay_gateway_url

    with pytest.raises(SettingsError) as partial:
        load_settings({"BUCHUMEN_ALIPAY_APP_ID": "2021000122600001"}, demo=True, data_dir=tmp_path)
    assert any("BUCHUMEN_ALIPAY_SELLER_ID" in p for p in partial.value.problems)
    with pytest.raises(SettingsError) as missing_file:
        load_settings(
            env | {"BUCHUMEN_ALIPAY_PUBLIC_KEY_FILE": str(tmp_path / "nope.pem")},
            demo=True,
            data_dir=tmp_path,
        )
    assert any("no such file" in p for p in missing_file.value.problems)
