"""The days off fixed by law, for a year whose State Council schedule is not known yet.

《全国年节及纪念日放假办法》 (as revised in 2024, in force from 2025) fixes the festivals every
citizen has off: 元旦 1 day, 春节 4 (除夕 and 初一 to 初三), 清明节 1, 劳动节 2, 端午节 1,
中秋节 1, 国庆节 3. Art. 6: a festival day that falls on a Saturday or Sunday is given back on a
working day (补假). The State Council's yearly notice then moves days around (调休); until an
administrator enters it, these days are the best the law itself says, and the year is
provisional.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, timedelta

from lunar_python import Lunar, Solar

__all__ = ["festival_days", "festival_days_off"]

_ONE_DAY = timedelta(days=1)


def festival_days(year: int) -> dict[str, tuple[date, ...]]:
    """Return each festival of ``year`` with its days off, before any 补假."""
    new_year = _lunar(year, 1, 1)
    return {
        "元旦": (date(year, 1, 1),),
        "春节": tuple(new_year + timedelta(days=n) for n in range(-1, 3)),  # 除夕 to 初三
        "清明节": (_qingming(year),),
        "劳动节": (date(year, 5, 1), date(year, 5, 2)),
        "端午节": (_lunar(year, 5, 5),),
        "中秋节": (_lunar(year, 8, 15),),
        "国庆节": (date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)),
    }


@functools.cache
def festival_days_off(year: int) -> frozenset[date]:
    """Return every day off of ``year`` the law fixes, with each weekend festival day given back."""
    off: set[date] = set()
    for days in festival_days(year).values():
        off.update(days)
    for days in festival_days(year).values():
        # Art. 6: given back on the first weekdays after the festival that are not already off.
        owed = sum(1 for day in days if day.weekday() >= 5)
        off.update(_next_weekdays(max(days), owed, off))
    return frozenset(off)


def _next_weekdays(after: date, count: int, taken: Iterable[date]) -> list[date]:
    taken = set(taken)
    found: list[date] = []
    day = after
    while len(found) < count:
        day += _ONE_DAY
        if day.weekday() < 5 and day not in taken:
            found.append(day)
    return found


def _lunar(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> date:
    """清明 is a solar term (the sun at 15° longitude), on 4 or 5 April."""
    term = Solar.fromYmd(year, 6, 1).getLunar().getJieQiTable()["清明"]
    return date(term.getYear(), term.getMonth(), term.getDay())
