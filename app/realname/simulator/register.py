"""The local FaceID's register of people, and the format checks it answers -2 and -3 from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

# Demo people (citizen ID number -> name), shared by demo mode and tests. Every number passes
# GB 11643 (region, birth date, check character). The 3501 numbers are the demo accounts
# (demo-citizen, demo-agent, demo-legal-rep); the others are for binding in the chat: 张三's is
# the standard's own example (born 1949), 赵敏 (born 1950) is over 60 for the 老年人优待证.
DEMO_REGISTER: Mapping[str, str] = MappingProxyType(
    {
        "11010519491231002X": "张三",
        "110105198001010032": "李四",
        "110101199003074477": "李四",
        "440305198506151233": "王五",
        "310104195003124022": "赵敏",
        "35010219850715002X": "张三",
        "350102197503020012": "李四",
        "350102196509090041": "王五",
    }
)


def number_of(name: str) -> str:
    """The first demo number registered under ``name`` (tests pick people by name)."""
    return next(number for number, who in DEMO_REGISTER.items() if who == name)


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"[1-9][0-9]{16}[0-9X]")
# Han characters, the middle dot of minority and foreign names, Latin letters and spaces.
_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u00b7\u30fb\u2022A-Za-z ]{2,30}")


def valid_id_number(number: str) -> bool:
    """What a register refuses with -2: shape, birth date and GB 11643 check character."""
    if not _ID_SHAPE.fullmatch(number):
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11] == number[17]


def valid_name(name: str) -> bool:
    """What a register refuses with -3: too short, too long, digits or symbols."""
    return _NAME.fullmatch(name) is not None
