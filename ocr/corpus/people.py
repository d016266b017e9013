"""Invented people, places and dates: the values printed on the corpus documents."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import NamedTuple

__all__ = ["REGIONS", "Region", "address", "cn_date", "person_name", "random_date", "years_later"]


class Region(NamedTuple):
    code: str  # GB/T 2260 county code, the first six digits of an ID number or a USCC's 3rd-8th
    address: str
    police: str
    city: str


REGIONS = (
    Region("110105", "北京市朝阳区", "北京市公安局朝阳分局", "北京市"),
    Region("110108", "北京市海淀区", "北京市公安局海淀分局", "北京市"),
    Region("310104", "上海市徐汇区", "上海市公安局徐汇分局", "上海市"),
    Region("350102", "福建省福州市鼓楼区", "福州市公安局鼓楼分局", "福州市"),
    Region("440305", "广东省深圳市南山区", "深圳市公安局南山分局", "深圳市"),
    Region("330106", "浙江省杭州市西湖区", "杭州市公安局西湖分局", "杭州市"),
    Region("510107", "四川省成都市武侯区", "成都市公安局武侯区分局", "成都市"),
    Region("420106", "湖北省武汉市武昌区", "武汉市公安局武昌分局", "武汉市"),
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
_STREETS = (
    "建国路", "中山路", "人民路", "解放路", "和平街", "科技园南路", "学院路", "文化路", "长江路",
)  # fmt: skip


def person_name(rng: random.Random) -> str:
    surname = rng.choice(_COMPOUND_SURNAMES) if rng.random() < 0.04 else rng.choice(_SURNAMES)
    return surname + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))


def random_date(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def years_later(day: date, years: int) -> date:
    """The same day ``years`` on; 29 February becomes 1 March."""
    if (day.month, day.day) == (2, 29):
        return date(day.year + years, 3, 1)
    return day.replace(year=day.year + years)


def address(region: Region, rng: random.Random) -> str:
    street = f"{region.address}{rng.choice(_STREETS)}{rng.randint(1, 300)}号"
    if rng.random() < 0.5:
        flat = f"{rng.randint(1, 32)}0{rng.randint(1, 4)}"
        return f"{street}{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{flat}室"
    return f"{street}院{rng.randint(1, 20)}号楼{rng.randint(1, 28)}0{rng.randint(1, 6)}"


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"
