"""The portrait business licence (营业执照 副本, 2019 national format), with its true fields."""

from __future__ import annotations

import random
from datetime import date, timedelta

from PIL import Image

from ocr.corpus.licence import _ACTIVITIES, _CAPITAL, _COMPANY_TYPES, _INDUSTRIES, _TRADE_NAMES, _qr
from ocr.corpus.numbers import uscc
from ocr.corpus.people import REGIONS, address, cn_date, person_name, random_date, years_later
from ocr.corpus.sheet import INK, RED, Sheet

__all__ = ["licence_portrait"]


def licence_portrait(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    """One column of labelled values under the title, the QR code at the top right."""
    region = rng.choice(REGIONS)
    code, boss = uscc(region.code, rng), person_name(rng)
    company = f"{region.city.removesuffix('市')}{rng.choice(_TRADE_NAMES)}"
    company += f"{rng.choice(_INDUSTRIES)}{rng.choice(('有限公司', '有限责任公司'))}"
    founded = random_date(rng, date(2000, 1, 1), date(2024, 6, 30))
    term_years = rng.choice((None, None, 20, 30))
    ends = years_later(founded, term_years) - timedelta(1) if term_years else None
    scope = "；".join(rng.sample(_ACTIVITIES, rng.randint(3, 5))) + "。"
    sheet = Sheet((840, 1180), (248, 245, 236), rng)
    sheet.draw.rectangle((16, 16, 823, 1163), outline=(176, 120, 70), width=8)
    sheet.draw.rectangle((32, 32, 807, 1147), outline=(176, 120, 70), width=2)
    sheet.draw.ellipse((375, 60, 465, 150), fill=RED)
    sheet.star(420, 103, 24, (250, 214, 90))
    sheet.centred(240, "营业执照", size=70, face="serif", spacing=24)
    sheet.centred(284, "（副本）", size=24, face="sans")
    sheet.text(64, 330, "统一社会信用代码", size=20)
    sheet.text(64, 366, code, size=26, face="bold", spacing=2)
    _qr(sheet, rng, (630, 300), 5)
    term = f"{cn_date(founded)}至{cn_date(ends) if ends else '长期'}"
    rows = (
        ("名称", company),
        ("类型", rng.choice(_COMPANY_TYPES)),
        ("法定代表人", boss),
        ("注册资本", f"人民币{rng.choice(_CAPITAL)}万元整"),
        ("成立日期", cn_date(founded)),
        ("营业期限", term),
        ("住所", address(region, rng)),
        ("经营范围", scope),
    )
    y = 470.0
    for key, value in rows:
        sheet.label(64, y, key, 120, size=22, fill=INK)
        y = sheet.paragraph(214, y, value, 560, size=22, leading=34) + 16
    sheet.text(470, 1040, "登记机关", size=22)
    sheet.text(520, 1090, cn_date(random_date(rng, founded, date(2024, 12, 31))), size=22)
    sheet.draw.ellipse((590, 950, 740, 1100), outline=RED, width=5)
    sheet.star(665, 1025, 26, RED)
    truth = {
        "uscc": code,
        "company_name": company,
        "legal_representative": boss,
        "valid_to": ends.isoformat() if ends else "长期",
    }
    return sheet.image, truth
