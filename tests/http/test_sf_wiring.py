"""The app factory's SF side: demo mode books through a local SF; real settings come together."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from app import keys
from app.main import create_app
from app.settings import Settings, SettingsError, load_settings
from logistics import Contact, PickupOrder, PickupWindow, SfCourier
from logistics.sf_protocol import CHINA

SENDER = Contact("李四", "13800138000", "广东省", "深圳市", "南山区", "科技园路 1 号")
COUNTER = Contact("收件窗口", "13900139000", "广东省", "深圳市", "福田区", "福中三路 2012 号")
WINDOW = PickupWindow(
    datetime(2026, 11, 3, 9, tzinfo=CHINA), datetime(2026, 11, 3, 11, tzinfo=CHINA)
)


async def test_demo_mode_books_pickups_through_a_local_sf(settings: Settings, aiohttp_client):
    client: TestClient = await aiohttp_client(create_app(settings))
    app = client.app
    assert app is not None
    courier, account = app[keys.COURIER], app[keys.SF_ACCOUNT]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/std/service", app[keys.SF_SIMULATOR_URL])
    assert isinstance(courier, SfCourier) and "***" in repr(courier)
    assert account.check_word not in repr(account)

    booking = await courier.book_pickup(PickupOrder("BCM-DEMO-1-P1", SENDER, COUNTER, WINDOW))

    assert booking.waybill_no.startswith("SF")
    assert (await courier.book_pickup(PickupOrder("BCM-DEMO-1-P1", SENDER, COUNTER, WINDOW))) == (
        type(booking)(booking.order_id, booking.waybill_no, existing=True)
    )
    assert await courier.routes(booking.waybill_no) == []


def test_sf_settings_come_together_and_mask_the_check_word(tmp_path: Path):
    env = {
        "BUCHUMEN_SF_PARTNER_ID": "BCM_GOV",
        "BUCHUMEN_SF_CHECK_WORD": "fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci",
        "BUCHUMEN_SF_API_URL": "https://sfapi-sbox.sf-express.com/std/service/",
    }
    settings = load_settings(env, demo=True, data_dir=tmp_path)
    assert settings.sf_configured
    assert settings.sf_api_url == "https://sfapi-sbox.sf-express.com/std/service"
    assert "fjcg5" not in repr(settings)

    with pytest.raises(SettingsError) as partial:
        load_settings({"BUCHUMEN_SF_PARTNER_ID": "BCM_GOV"}, demo=True, data_dir=tmp_path)
    assert any("BUCHUMEN_SF_CHECK_WORD" in p for p in partial.value.problems)
    assert not load_settings({}, demo=True, data_dir=tmp_path).sf_configured
