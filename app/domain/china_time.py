"""Dates as they are in China, where every time limit of the law is counted."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# China has one time zone and no daylight saving; a fixed offset keeps the domain free of tzdata.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_date(at: datetime) -> date:
    return at.astimezone(CHINA).date()
