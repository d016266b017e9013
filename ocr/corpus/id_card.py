"""The two sides of a second-generation resident ID card (居民身份证), with their true fields."""

from __future__ import annotations

import random
from datetime import date

from PIL import Image

from ocr.corpus.numbers import citizen_id
from ocr.corpus.people import REGIONS, address, person_name, random_date, years_later
from ocr.corpus.sheet import LABEL, RED, Sheet

__all__ = ["id_back", "id_front"]

_ETHNICITIES = ("回", "满", "壮", "苗", "维吾尔", "土家", "彝", "蒙古", "藏")


def id_front(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    """The portrait side: name, sex, ethnicity, birth date, address and the ID number."""
    region, name, male = rng.choice(REGIONS), person_name(rng), rng.random() < 0.5
    birth = random_date(rng, date(1950, 1, 1), date(2005, 12, 31))
    ethnicity = "汉" if rng.random() < 0.85 else rng.choice(_ETHNICITIES)
    home, number = address(region, rng), citizen_id(region.code, birth, male, rng)
    sex = "男" if male else "女"
    sheet = Sheet((856, 540), (238, 242, 244), rng)
    sheet.label(60, 100, "姓名", 64, size=24)
    sheet.text(160, 100, name, size=32)
    sheet.label(60, 168, "性别", 64, size=24)
    sheet.text(160, 168, sex, size=28)
    sheet.label(260, 168, "民族", 64, size=24)
    sheet.text(350, 168, ethnicity, size=28)
    sheet.label(60, 236, "出生", 64, size=24)
    x = 160.0
    for value, unit in ((birth.year, "年"), (birth.month, "月"), (birth.day, "日")):
        x = sheet.text(x, 236, str(value), size=28) + 10
        x = sheet.text(x, 236, unit, size=24, fill=LABEL) + 18
    sheet.label(60, 304, "住址", 64, size=24)
    sheet.paragraph(160, 304, home, 400, size=26, leading=40)
    sheet.portrait((600, 70, 800, 330))
    sheet.label(60, 470, "公民身份号码", 190, size=24)
    sheet.text(290, 472, number, size=34, face="bold", spacing=5)
    truth = {
        "id_number": number,
        "name": name,
        "birth_date": birth.isoformat(),
        "sex": sex,
        "address": home,
    }
    return sheet.image, truth


def id_back(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    """The national-emblem side: issuing police office and validity period."""
    region = rng.choice(REGIONS)
    birth = random_date(rng, date(1950, 1, 1), date(2005, 12, 31))
    issued = random_date(rng, date(max(2008, birth.year + 16), 1, 1), date(2024, 12, 31))
    age = issued.year - birth.year
    years = 10 if age <= 25 else 20 if age <= 45 else None  # 46 and over: 长期 (no end)
    expires = years_later(issued, years) if years else None
    sheet = Sheet((856, 540), (240, 240, 234), rng)
    sheet.draw.ellipse((60, 50, 210, 200), fill=RED)
    sheet.star(135, 110, 34, (250, 214, 90))
    sheet.centred(130, "中华人民共和国", size=46, face="serif", spacing=10)
    sheet.centred(250, "居民身份证", size=64, face="serif", spacing=26)
    sheet.label(140, 410, "签发机关", 120, size=26)
    sheet.text(300, 410, region.police, size=28)
    sheet.label(140, 474, "有效期限", 120, size=26)
    end = f"{expires:%Y.%m.%d}" if expires else "长期"
    sheet.text(300, 474, f"{issued:%Y.%m.%d}-{end}", size=28)
    truth = {
        "issuer": region.police,
        "valid_from": issued.isoformat(),
        "valid_to": expires.isoformat() if expires else "长期",
    }
    return sheet.image, truth
