"""A business licence (营业执照) in the 2019 two-column layout, with its true fields."""

from __future__ import annotations

import random
from datetime import date, timedelta

from PIL import Image

from ocr.corpus.numbers import uscc
from ocr.corpus.people import REGIONS, address, cn_date, person_name, random_date, years_later
from ocr.corpus.sheet import INK, RED, Sheet

__all__ = ["licence"]

_TRADE_NAMES = (
    "星辰", "华信", "博远", "恒通", "瑞丰", "智联", "云帆", "鼎盛", "启明", "同创", "汇达",
)  # fmt: skip
_INDUSTRIES = ("科技", "信息技术", "网络科技", "贸易", "餐饮管理", "建筑工程", "文化传媒")
_COMPANY_TYPES = (
    "有限责任公司（自然人投资或控股）",
    "有限责任公司（自然人独资）",
    "其他有限责任公司",
)
_ACTIVITIES = (
    "技术开发、技术咨询、技术服务",
    "软件开发",
    "计算机系统服务",
    "销售电子产品",
    "会议及展览服务",
    "企业管理咨询",
    "货物进出口",
    "广告设计、代理",
    "餐饮服务",
    "建设工程施工",
)
_CAPITAL = ("伍拾", "壹佰", "贰佰", "叁佰", "伍佰", "壹仟")
_FINDERS = ((0, 0), (0, 18), (18, 0))


def licence(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    """The USCC at the top left, then two columns of labelled values (名称… and 注册资本…)."""
    region = rng.choice(REGIONS)
    code, boss = uscc(region.code, rng), person_name(rng)
    trade = rng.choice(_TRADE_NAMES) + rng.choice(_INDUSTRIES)
    company = f"{region.city.removesuffix('市')}{trade}有限公司"
    founded = random_date(rng, date(2000, 1, 1), date(2024, 6, 30))
    term_years = rng.choice((None, None, None, 20, 30))  # most companies register 长期
    ends = years_later(founded, term_years) - timedelta(1) if term_years else None
    scope = "；".join(rng.sample(_ACTIVITIES, rng.randint(3, 5)))
    scope += "。（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
    sheet = Sheet((1180, 830), (248, 244, 232), rng)
    sheet.draw.rectangle((18, 18, 1161, 811), outline=(176, 120, 70), width=8)
    sheet.draw.rectangle((36, 36, 1143, 793), outline=(176, 120, 70), width=2)
    sheet.draw.ellipse((545, 60, 635, 150), fill=RED)
    sheet.star(590, 103, 24, (250, 214, 90))
    sheet.centred(250, "营业执照", size=76, face="serif", spacing=30)
    sheet.text(70, 140, "统一社会信用代码", size=20)
    sheet.text(70, 176, code, size=26, face="bold", spacing=2)
    rows_left = (("名称", company), ("类型", rng.choice(_COMPANY_TYPES)), ("法定代表人", boss))
    y = 330.0
    for key, value in rows_left:
        sheet.label(70, y, key, 110, size=22, fill=INK)
        y = sheet.paragraph(200, y, value, 360, size=22, leading=34) + 14
    sheet.label(70, y, "经营范围", 110, size=22, fill=INK)
    sheet.paragraph(200, y, scope, 360, size=20, leading=30)
    term = f"{cn_date(founded)}至{cn_date(ends) if ends else '长期'}"
    rows_right = (
        ("注册资本", f"人民币{rng.choice(_CAPITAL)}万元整"),
        ("成立日期", cn_date(founded)),
        ("营业期限", term),
        ("住所", address(region, rng)),
    )
    y = 330.0
    for key, value in rows_right:
        sheet.label(640, y, key, 110, size=22, fill=INK)
        y = sheet.paragraph(770, y, value, 370, size=22, leading=34) + 14
    _qr(sheet, rng, (70, 620), 6)
    sheet.text(760, 700, "登记机关", size=22)
    sheet.text(820, 750, cn_date(random_date(rng, founded, date(2024, 12, 31))), size=22)
    sheet.draw.ellipse((860, 610, 1010, 760), outline=RED, width=5)
    sheet.star(935, 685, 26, RED)
    truth = {
        "uscc": code,
        "company_name": company,
        "legal_representative": boss,
        "valid_to": ends.isoformat() if ends else "长期",
    }
    return sheet.image, truth


def _qr(sheet: Sheet, rng: random.Random, origin: tuple[int, int], cell: int) -> None:
    # Random modules with the three finder squares: looks like a QR code, carries nothing.
    x0, y0 = origin
    for row in range(25):
        for col in range(25):
            finder = any(r <= row < r + 7 and c <= col < c + 7 for r, c in _FINDERS)
            ring = finder and (
                row % 18 in (0, 6)
                or col % 18 in (0, 6)
                or (2 <= row % 18 <= 4 and 2 <= col % 18 <= 4)
            )
            if ring or (not finder and rng.random() < 0.5):
                left, top = x0 + col * cell, y0 + row * cell
                sheet.draw.rectangle((left, top, left + cell - 1, top + cell - 1), fill=INK)
