"""The residence permit (居住证) and the driver's health certificate form (身体条件证明)."""

from __future__ import annotations

import random
from datetime import date

from PIL import Image

from ocr.corpus.numbers import citizen_id
from ocr.corpus.people import REGIONS, address, cn_date, person_name, random_date, years_later
from ocr.corpus.sheet import INK, LABEL, RED, Sheet

__all__ = ["health_certificate", "residence_permit"]


def residence_permit(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    """A card with the ID card's labels and its own: 居住地址, 签发机关, 有效期限."""
    home, here = rng.sample(REGIONS, 2)
    name, male = person_name(rng), rng.random() < 0.5
    birth = random_date(rng, date(1950, 1, 1), date(2004, 12, 31))
    number = citizen_id(home.code, birth, male, rng)
    issued = random_date(rng, date(2019, 1, 1), date(2025, 6, 30))
    ends = years_later(issued, rng.choice((1, 3, 5)))
    sheet = Sheet((856, 540), (236, 240, 232), rng)
    sheet.centred(60, f"{here.city}居住证", size=36, face="serif", spacing=6)
    rows = (
        ("姓名", name),
        ("性别", "男" if male else "女"),
        ("出生", cn_date(birth)),
        ("公民身份号码", number),
        ("居住地址", address(here, rng)),
        ("签发机关", here.police),
        ("有效期限", f"{issued:%Y.%m.%d}-{ends:%Y.%m.%d}"),
    )
    for i, (key, value) in enumerate(rows):
        sheet.label(50, 120 + i * 58, key, 150, size=22)
        face = "bold" if key == "公民身份号码" else "sans"
        sheet.text(220, 120 + i * 58, value, size=24 if len(value) < 20 else 20, face=face)
    sheet.portrait((650, 100, 810, 300))
    truth = {"certificate_number": number, "holder_name": name, "expiry_date": ends.isoformat()}
    return sheet.image, truth


def health_certificate(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    """The A4 form a hospital fills in: many labels shared with ID cards and licences."""
    region, name, male = rng.choice(REGIONS), person_name(rng), rng.random() < 0.5
    birth = random_date(rng, date(1958, 1, 1), date(2004, 12, 31))
    sheet = Sheet((900, 1270), (250, 250, 248), rng)
    sheet.centred(90, "机动车驾驶人身体条件证明", size=40, face="serif", spacing=4)
    grid = (
        (("姓名", name), ("性别", "男" if male else "女")),
        (("出生日期", cn_date(birth)), ("国籍", "中国")),
        (("身份证明名称", "居民身份证"), ("号码", citizen_id(region.code, birth, male, rng))),
        (("住址", address(region, rng)), None),
        (("申请准驾车型", "C1"), ("身高", f"{rng.randint(150, 190)}cm")),
        (("辨色力", "正常"), ("听力", "正常")),
        (("视力", "左眼5.0 右眼5.0"), ("躯干和颈部", "正常")),
        (("医疗机构", f"{region.city}第一人民医院"), None),
    )
    y = 170
    for left, right in grid:
        sheet.draw.rectangle((50, y, 850, y + 80), outline=INK, width=2)
        sheet.text(64, y + 50, left[0], size=22, fill=LABEL)
        sheet.text(64 + 24 * len(left[0]) + 20, y + 50, left[1], size=20 if right else 18)
        if right:
            sheet.text(520, y + 50, right[0], size=22, fill=LABEL)
            sheet.text(520 + 24 * len(right[0]) + 20, y + 50, right[1], size=20)
        y += 80
    sheet.text(64, y + 80, "医师签字：", size=22)
    sheet.text(480, y + 80, f"体检日期：{cn_date(date(2026, 11, rng.randint(1, 20)))}", size=22)
    sheet.draw.ellipse((560, y + 130, 720, y + 290), outline=RED, width=4)
    return sheet.image, {}  # a form: the pre-check reads no field of it
