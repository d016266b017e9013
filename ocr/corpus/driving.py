"""The motor vehicle driving licence (机动车驾驶证): main page and supplementary page."""

from __future__ import annotations

import random
from datetime import date

from PIL import Image

from ocr.corpus.numbers import citizen_id
from ocr.corpus.people import REGIONS, address, person_name, random_date, years_later
from ocr.corpus.sheet import INK, LABEL, RED, Sheet

__all__ = ["driving_licence", "driving_licence_page2"]

_CLASSES = ("C1", "C1", "C2", "B2", "A2", "C1E")
_CARD = (880, 600)
_PAPER = (226, 232, 240)


def _holder(rng: random.Random) -> tuple[str, bool, date, str, str]:
    region, name, male = rng.choice(REGIONS), person_name(rng), rng.random() < 0.5
    birth = random_date(rng, date(1958, 1, 1), date(2004, 12, 31))
    return name, male, birth, citizen_id(region.code, birth, male, rng), address(region, rng)


def _label(sheet: Sheet, x: float, y: float, zh: str, en: str) -> None:
    # Chinese label with its English gloss set small beneath it, as printed on the card.
    sheet.text(x, y, zh, size=20, fill=LABEL)
    sheet.text(x, y + 17, en, size=11, fill=LABEL)


def driving_licence(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    """Main page: 证号 (the ID number), the holder, 准驾车型 and 有效期限 from … 至 …."""
    name, male, birth, number, home = _holder(rng)
    first = random_date(rng, date(max(2006, birth.year + 18), 1, 1), date(2024, 6, 30))
    start = years_later(first, rng.choice((0, 0, 6)))
    end = years_later(start, rng.choice((6, 10)))
    sheet = Sheet(_CARD, _PAPER, rng)
    sheet.draw.rectangle((8, 8, _CARD[0] - 9, _CARD[1] - 9), outline=(120, 140, 170), width=3)
    sheet.centred(56, "中华人民共和国机动车驾驶证", size=34, face="serif", spacing=2)
    sheet.centred(82, "Driving License of the People's Republic of China", size=14, face="sans")
    _label(sheet, 40, 130, "证号", "No.")
    sheet.text(120, 132, number, size=28, face="bold", spacing=3)
    _label(sheet, 40, 190, "姓名", "Name")
    sheet.text(120, 192, name, size=28)
    _label(sheet, 300, 190, "性别", "Sex")
    sheet.text(370, 192, "男" if male else "女", size=26)
    _label(sheet, 440, 190, "国籍", "Nationality")
    sheet.text(540, 192, "中国", size=26)
    _label(sheet, 40, 250, "住址", "Address")
    sheet.paragraph(120, 252, home, 480, size=24, leading=34)
    _label(sheet, 40, 350, "出生日期", "Date of Birth")
    sheet.text(200, 352, f"{birth:%Y-%m-%d}", size=26)
    _label(sheet, 40, 410, "初次领证日期", "Issue Date")
    sheet.text(200, 412, f"{first:%Y-%m-%d}", size=26)
    _label(sheet, 40, 470, "准驾车型", "Class")
    sheet.text(200, 472, rng.choice(_CLASSES), size=26, face="bold")
    _label(sheet, 40, 540, "有效期限", "Valid Period")
    sheet.text(200, 542, f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}", size=26)
    sheet.portrait((660, 170, 830, 390))
    sheet.draw.ellipse((660, 420, 820, 580), outline=RED, width=4)
    sheet.star(740, 500, 22, RED)
    truth = {"certificate_number": number, "holder_name": name, "expiry_date": end.isoformat()}
    return sheet.image, truth


def driving_licence_page2(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    """Supplementary page: 证号, 姓名, 档案编号 and an empty 记录 box; no validity printed."""
    name, _, _, number, _ = _holder(rng)
    sheet = Sheet(_CARD, _PAPER, rng)
    sheet.draw.rectangle((8, 8, _CARD[0] - 9, _CARD[1] - 9), outline=(120, 140, 170), width=3)
    sheet.centred(56, "中华人民共和国机动车驾驶证副页", size=32, face="serif", spacing=2)
    _label(sheet, 40, 130, "证号", "No.")
    sheet.text(120, 132, number, size=28, face="bold", spacing=3)
    _label(sheet, 40, 190, "姓名", "Name")
    sheet.text(120, 192, name, size=28)
    _label(sheet, 40, 250, "档案编号", "File No.")
    sheet.text(200, 252, "".join(str(rng.randrange(10)) for _ in range(12)), size=26)
    _label(sheet, 40, 310, "记录", "Record")
    sheet.draw.rectangle((40, 330, 840, 560), outline=INK, width=2)
    truth = {"certificate_number": number, "holder_name": name}
    return sheet.image, truth
