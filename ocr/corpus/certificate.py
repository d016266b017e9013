"""A personal qualification certificate (从业资格证, 特种作业操作证), with its true fields."""

from __future__ import annotations

import random
from datetime import date, timedelta

from PIL import Image

from ocr.corpus.numbers import citizen_id
from ocr.corpus.people import REGIONS, cn_date, person_name, random_date, years_later
from ocr.corpus.sheet import Sheet

__all__ = ["certificate"]

# (title, category label, categories, number prefix, issuer suffix) of personal certificates.
_CERTIFICATES = (
    (
        "道路运输从业人员从业资格证",
        "从业资格类别",
        ("道路旅客运输驾驶员", "道路货物运输驾驶员", "危险货物运输驾驶员"),
        "",
        "交通运输局",
    ),
    ("特种作业操作证", "作业类别", ("电工作业", "焊接与热切割作业", "高处作业"), "T", "应急管理局"),
)


def certificate(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    """Labels down the left, values beside them, a portrait on the right; valid six years."""
    title, category_label, categories, prefix, authority = rng.choice(_CERTIFICATES)
    region, name, male = rng.choice(REGIONS), person_name(rng), rng.random() < 0.5
    birth = random_date(rng, date(1960, 1, 1), date(2002, 12, 31))
    number = prefix + citizen_id(region.code, birth, male, rng)  # these carry the ID number
    first = random_date(rng, date(2012, 1, 1), date(2024, 6, 30))
    expiry = years_later(first, 6) - timedelta(1)
    sheet = Sheet((960, 620), (236, 242, 236), rng)
    sheet.draw.rectangle((14, 14, 945, 605), outline=(60, 110, 80), width=4)
    sheet.centred(90, "中华人民共和国", size=30, face="serif", spacing=8)
    sheet.centred(150, title, size=40, face="serif", spacing=4)
    rows = (
        ("姓名", name),
        ("性别", "男" if male else "女"),
        ("证号", number),
        (category_label, rng.choice(categories)),
        ("初次领证日期", cn_date(first)),
        ("有效期至", cn_date(expiry)),
        ("发证机关", region.city + authority),
    )
    for i, (key, value) in enumerate(rows):
        sheet.label(60, 236 + i * 54, key, 150, size=22)
        sheet.text(240, 236 + i * 54, value, size=26, face="bold" if key == "证号" else "sans")
    sheet.portrait((730, 200, 890, 410))
    truth = {"certificate_number": number, "holder_name": name, "expiry_date": expiry.isoformat()}
    return sheet.image, truth
