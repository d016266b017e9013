"""A seeded synthetic corpus of photographed Chinese documents, each with its true field values."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple

from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["ALL", "FONT_DIR", "FONT_PATH", "Kind", "Sample", "generate", "write_corpus"]

Kind = Literal["id_card_front", "id_card_back", "business_licence", "certificate"]
ALL: tuple[Kind, ...] = ("id_card_front", "id_card_back", "business_licence", "certificate")

# Debian's fonts-noto-cjk; app/bootstrap.py installs it. Index 2 of each collection is the SC face.
FONT_DIR = Path("/usr/share/fonts/opentype/noto")
FONT_PATH = FONT_DIR / "NotoSansCJK-Regular.ttc"
_FACES = {"sans": "NotoSansCJK-Regular.ttc", "bold": "NotoSansCJK-Bold.ttc"}
_FACES["serif"] = "NotoSerifCJK-Bold.ttc"
_SC_INDEX = 2

INK = (22, 22, 24)
LABEL = (52, 92, 140)
RED = (200, 36, 36)
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Sample:
    """One photographed document and the exact value of every field an engine should read."""

    kind: Kind
    image: Image.Image
    truth: dict[str, str]


class _Region(NamedTuple):
    code: str  # GB/T 2260 county code, the first six digits of an ID number or a USCC's 3rd-8th
    address: str
    police: str
    city: str


_REGIONS = (
    _Region("110105", "北京市朝阳区", "北京市公安局朝阳分局", "北京市"),
    _Region("110108", "北京市海淀区", "北京市公安局海淀分局", "北京市"),
    _Region("310104", "上海市徐汇区", "上海市公安局徐汇分局", "上海市"),
    _Region("350102", "福建省福州市鼓楼区", "福州市公安局鼓楼分局", "福州市"),
    _Region("440305", "广东省深圳市南山区", "深圳市公安局南山分局", "深圳市"),
    _Region("330106", "浙江省杭州市西湖区", "杭州市公安局西湖分局", "杭州市"),
    _Region("510107", "四川省成都市武侯区", "成都市公安局武侯区分局", "成都市"),
    _Region("420106", "湖北省武汉市武昌区", "武汉市公安局武昌分局", "武汉市"),
)
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲芬燕"
    "彬鹏辉宇浩然轩欣怡梓涵雨萱晨阳思远佳琪俊志建国文博嘉"
)
_ETHNICITIES = ("回", "满", "壮", "苗", "维吾尔", "土家", "彝", "蒙古", "藏")
_STREETS = (
    "建国路",
    "中山路",
    "人民路",
    "解放路",
    "和平街",
    "科技园南路",
    "学院路",
    "文化路",
    "长江路",
)
_TRADE_NAMES = (
    "星辰",
    "华信",
    "博远",
    "恒通",
    "瑞丰",
    "智联",
    "云帆",
    "鼎盛",
    "启明",
    "同创",
    "汇达",
)
_INDUSTRIES = (
    "科技",
    "信息技术",
    "网络科技",
    "贸易",
    "餐饮管理",
    "建筑工程",
    "文化传媒",
)
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
_DESKS: tuple[RGB, ...] = ((96, 70, 50), (68, 70, 74), (42, 54, 72), (50, 72, 58), (120, 96, 72))

# --- numbers with check characters ------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _citizen_id(region: str, birth: date, male: bool, rng: random.Random) -> str:
    # GB 11643: region, birth date, two sequence digits, a sex digit (odd for men), check char.
    sex_digit = rng.randrange(1, 10, 2) if male else rng.randrange(0, 10, 2)
    first17 = f"{region}{birth:%Y%m%d}{rng.randrange(100):02d}{sex_digit}"
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def _uscc(region: str, rng: random.Random) -> str:
    # GB 32100: 9 (market regulator), 1 (enterprise), region, a GB 11714 organisation code with
    # its own check character (validators check both), then the code's check character.
    body = rng.choice(("MA", "")) + "".join(rng.choice(_USCC_CHARSET) for _ in range(8))
    body = body[:8]
    org_total = sum(_ORG_CHARSET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    org_check = {10: "X", 11: "0"}.get(11 - org_total % 11, str(11 - org_total % 11))
    first17 = f"91{region}{body}{org_check}"
    total = sum(_USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return first17 + _USCC_CHARSET[(31 - total % 31) % 31]


# --- people, places and dates -----------------------------------------------------------------


def _name(rng: random.Random) -> str:
    surname = rng.choice(_COMPOUND_SURNAMES) if rng.random() < 0.04 else rng.choice(_SURNAMES)
    return surname + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _date(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _years_later(day: date, years: int) -> date:
    return (
        day.replace(year=day.year + years)
        if (day.month, day.day) != (2, 29)
        else (date(day.year + years, 3, 1))
    )


def _address(region: _Region, rng: random.Random) -> str:
    street = f"{region.address}{rng.choice(_STREETS)}{rng.randint(1, 300)}号"
    if rng.random() < 0.5:
        flat = f"{rng.randint(1, 32)}0{rng.randint(1, 4)}"
        return f"{street}{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{flat}室"
    return f"{street}院{rng.randint(1, 20)}号楼{rng.randint(1, 28)}0{rng.randint(1, 6)}"


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


# --- drawing ----------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _font(face: str, size: int) -> ImageFont.FreeTypeFont:
    path = FONT_DIR / _FACES[face]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: apt-get install fonts-noto-cjk")
    return ImageFont.truetype(str(path), size, index=_SC_INDEX)


class _Sheet:
    """A document being drawn at the base scale; coordinates are text baselines."""

    def __init__(self, size: tuple[int, int], paper: RGB, rng: random.Random) -> None:
        tint = tuple(min(255, c + rng.randint(-6, 4)) for c in paper)
        self.paper: RGB = (tint[0], tint[1], tint[2])
        self.image = Image.new("RGB", size, self.paper)
        self.draw = ImageDraw.Draw(self.image)
        self._guilloche(rng)

    def _guilloche(self, rng: random.Random) -> None:
        # Faint security waves, as on real cards: texture an engine must ignore.
        width, height = self.image.size
        shade = tuple(c - 14 for c in self.paper)
        for _ in range(6):
            amp, period = rng.uniform(8, 30), rng.uniform(120, 320)
            phase, y0 = rng.uniform(0, 2 * math.pi), rng.uniform(0, height)
            points = [
                (x, y0 + amp * math.sin(phase + 2 * math.pi * x / period))
                for x in range(0, width + 8, 8)
            ]
            self.draw.line(points, fill=(shade[0], shade[1], shade[2]), width=1)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: int,
        face: str = "sans",
        fill: RGB = INK,
        spacing: float = 0.0,
    ) -> float:
        """Draw ``text`` with ``spacing`` extra pixels between characters; return its right edge."""
        font = _font(face, size)
        for char in text if spacing else [text]:
            self.draw.text((x, y), char, font=font, fill=fill, anchor="ls")
            x += font.getlength(char) + spacing
        return x - spacing

    def label(
        self, x: float, y: float, text: str, width: float, *, size: int, fill: RGB = LABEL
    ) -> None:
        """Draw a label spread over ``width``, the way 名　　称 is set on printed forms."""
        gap = (width - _font("sans", size).getlength(text)) / max(len(text) - 1, 1)
        self.text(x, y, text, size=size, fill=fill, spacing=max(gap, 0))

    def centred(
        self, y: float, text: str, *, size: int, face: str, fill: RGB = INK, spacing: float = 0.0
    ) -> None:
        width = _font(face, size).getlength(text) + spacing * (len(text) - 1)
        self.text(
            (self.image.width - width) / 2,
            y,
            text,
            size=size,
            face=face,
            fill=fill,
            spacing=spacing,
        )

    def paragraph(
        self, x: float, y: float, text: str, width: float, *, size: int, leading: float
    ) -> float:
        """Draw ``text`` wrapped to ``width``; return the baseline after its last line."""
        font, line = _font("sans", size), ""
        for char in text:
            # Closing punctuation never starts a line (the 禁则 of Chinese typesetting).
            if line and font.getlength(line + char) > width and char not in "，。；、）":
                self.text(x, y, line, size=size)
                line, y = "", y + leading
            line += char
        self.text(x, y, line, size=size)
        return y + leading

    def star(self, cx: float, cy: float, r: float, fill: RGB) -> None:
        points = [
            (
                cx + (r if i % 2 == 0 else r * 0.4) * math.sin(i * math.pi / 5),
                cy - (r if i % 2 == 0 else r * 0.4) * math.cos(i * math.pi / 5),
            )
            for i in range(10)
        ]
        self.draw.polygon(points, fill=fill)

    def portrait(self, box: tuple[int, int, int, int]) -> None:
        left, top, right, bottom = box
        width = right - left
        photo = Image.new("RGB", (width, bottom - top), (214, 222, 230))
        draw, cx, grey = ImageDraw.Draw(photo), width / 2, (150, 160, 172)
        draw.ellipse((cx - width * 0.22, width * 0.2, cx + width * 0.22, width * 0.72), fill=grey)
        draw.ellipse((cx - width * 0.45, width * 0.8, cx + width * 0.45, width * 1.9), fill=grey)
        self.image.paste(photo, (left, top))


# --- the four layouts -------------------------------------------------------------------------


def _id_front(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    region, name, male = rng.choice(_REGIONS), _name(rng), rng.random() < 0.5
    birth = _date(rng, date(1950, 1, 1), date(2005, 12, 31))
    ethnicity = "汉" if rng.random() < 0.85 else rng.choice(_ETHNICITIES)
    address, number = _address(region, rng), _citizen_id(region.code, birth, male, rng)
    sex = "男" if male else "女"
    sheet = _Sheet((856, 540), (238, 242, 244), rng)
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
    sheet.paragraph(160, 304, address, 400, size=26, leading=40)
    sheet.portrait((600, 70, 800, 330))
    sheet.label(60, 470, "公民身份号码", 190, size=24)
    sheet.text(290, 472, number, size=34, face="bold", spacing=5)
    truth = {
        "id_number": number,
        "name": name,
        "birth_date": birth.isoformat(),
        "sex": sex,
        "address": address,
    }
    return sheet.image, truth


def _id_back(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    region = rng.choice(_REGIONS)
    birth = _date(rng, date(1950, 1, 1), date(2005, 12, 31))
    issued = _date(rng, date(max(2008, birth.year + 16), 1, 1), date(2024, 12, 31))
    age = issued.year - birth.year
    years = 10 if age <= 25 else 20 if age <= 45 else None  # 46 and over: 长期 (no end)
    expires = _years_later(issued, years) if years else None
    sheet = _Sheet((856, 540), (240, 240, 234), rng)
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


def _licence(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    region = rng.choice(_REGIONS)
    code, boss = _uscc(region.code, rng), _name(rng)
    trade = rng.choice(_TRADE_NAMES) + rng.choice(_INDUSTRIES)
    company = f"{region.city.removesuffix('市')}{trade}有限公司"
    founded = _date(rng, date(2000, 1, 1), date(2024, 6, 30))
    term_years = rng.choice((None, None, None, 20, 30))  # most companies register 长期
    ends = _years_later(founded, term_years) - timedelta(1) if term_years else None
    scope = "；".join(rng.sample(_ACTIVITIES, rng.randint(3, 5)))
    scope += "。（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
    sheet = _Sheet((1180, 830), (248, 244, 232), rng)
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
    term = f"{_cn_date(founded)}至{_cn_date(ends) if ends else '长期'}"
    rows_right = (
        ("注册资本", f"人民币{rng.choice(_CAPITAL)}万元整"),
        ("成立日期", _cn_date(founded)),
        ("营业期限", term),
        ("住所", _address(region, rng)),
    )
    y = 330.0
    for key, value in rows_right:
        sheet.label(640, y, key, 110, size=22, fill=INK)
        y = sheet.paragraph(770, y, value, 370, size=22, leading=34) + 14
    _qr(sheet, rng, (70, 620), 6)
    sheet.text(760, 700, "登记机关", size=22)
    sheet.text(820, 750, _cn_date(_date(rng, founded, date(2024, 12, 31))), size=22)
    sheet.draw.ellipse((860, 610, 1010, 760), outline=RED, width=5)
    sheet.star(935, 685, 26, RED)
    truth = {
        "uscc": code,
        "company_name": company,
        "legal_representative": boss,
        "valid_to": ends.isoformat() if ends else "长期",
    }
    return sheet.image, truth


_FINDERS = ((0, 0), (0, 18), (18, 0))


def _qr(sheet: _Sheet, rng: random.Random, origin: tuple[int, int], cell: int) -> None:
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
                box = (
                    x0 + col * cell,
                    y0 + row * cell,
                    x0 + col * cell + cell - 1,
                    y0 + row * cell + cell - 1,
                )
                sheet.draw.rectangle(box, fill=INK)


def _certificate(rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    title, category_label, categories, prefix, authority = rng.choice(_CERTIFICATES)
    region, name, male = rng.choice(_REGIONS), _name(rng), rng.random() < 0.5
    birth = _date(rng, date(1960, 1, 1), date(2002, 12, 31))
    number = prefix + _citizen_id(region.code, birth, male, rng)  # these carry the ID number
    first = _date(rng, date(2012, 1, 1), date(2024, 6, 30))
    expiry = _years_later(first, 6) - timedelta(1)
    sheet = _Sheet((960, 620), (236, 242, 236), rng)
    sheet.draw.rectangle((14, 14, 945, 605), outline=(60, 110, 80), width=4)
    sheet.centred(90, "中华人民共和国", size=30, face="serif", spacing=8)
    sheet.centred(150, title, size=40, face="serif", spacing=4)
    rows = (
        ("姓名", name),
        ("性别", "男" if male else "女"),
        ("证号", number),
        (category_label, rng.choice(categories)),
        ("初次领证日期", _cn_date(first)),
        ("有效期至", _cn_date(expiry)),
        ("发证机关", region.city + authority),
    )
    for i, (key, value) in enumerate(rows):
        sheet.label(60, 236 + i * 54, key, 150, size=22)
        sheet.text(240, 236 + i * 54, value, size=26, face="bold" if key == "证号" else "sans")
    sheet.portrait((730, 200, 890, 410))
    truth = {"certificate_number": number, "holder_name": name, "expiry_date": expiry.isoformat()}
    return sheet.image, truth


_LAYOUTS: dict[Kind, Callable[[random.Random], tuple[Image.Image, dict[str, str]]]] = {
    "id_card_front": _id_front,
    "id_card_back": _id_back,
    "business_licence": _licence,
    "certificate": _certificate,
}


def _on_desk(document: Image.Image, rng: random.Random, *, radius: int) -> Image.Image:
    """Photograph ``document`` from above: a desk around it, filling ~60-80 % of the frame."""
    fill = rng.uniform(0.78, 0.89)  # per side, so the document covers 61-79 % of the area
    frame = (round(document.width / fill), round(document.height / fill))
    free_x, free_y = frame[0] - document.width, frame[1] - document.height
    x = rng.randint(free_x // 4, free_x - free_x // 4)
    y = rng.randint(free_y // 4, free_y - free_y // 4)
    desk = tuple(c + rng.randint(-10, 10) for c in rng.choice(_DESKS))
    photo = Image.new("RGB", frame, (desk[0], desk[1], desk[2]))
    mask = Image.new("L", document.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *document.size), radius=radius, fill=255)
    shadow = Image.new("L", frame, 0)
    shadow.paste(mask.point(lambda v: v * 110 // 255), (x + 6, y + 9))
    photo.paste((10, 10, 10), (0, 0), shadow.filter(ImageFilter.GaussianBlur(9)))
    photo.paste(document, (x, y), mask)
    return photo


def generate(seed: int, count: int, *, kinds: Sequence[Kind] = ALL) -> Iterator[Sample]:
    """Yield ``count`` samples cycling through ``kinds``; the same seed gives identical images."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible test data, not secrets
    for i in range(count):
        kind = kinds[i % len(kinds)]
        document, truth = _LAYOUTS[kind](rng)
        radius = 30 if kind.startswith("id_card") else 4
        yield Sample(kind=kind, image=_on_desk(document, rng, radius=radius), truth=truth)


def write_corpus(directory: Path, seed: int, count: int, *, degraded: bool = False) -> None:
    """Save ``count`` samples as PNGs with a truth.jsonl beside them, for a person to look at."""
    from ocr.degrade import degrade

    directory.mkdir(parents=True, exist_ok=True)
    noise = random.Random(f"degrade-{seed}")  # noqa: S311 -- a separate stream keeps clean images stable
    with (directory / "truth.jsonl").open("w", encoding="utf-8") as lines:
        for i, sample in enumerate(generate(seed, count)):
            name = f"{i:04d}_{sample.kind}.png"
            level: Literal["clean", "degraded"] = "degraded" if degraded else "clean"
            degrade(sample.image, noise, level=level).save(directory / name)
            record = {"file": name, "kind": sample.kind, "truth": sample.truth}
            lines.write(json.dumps(record, ensure_ascii=False) + "\n")
