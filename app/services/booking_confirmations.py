"""The chat message that confirms a hall visit: when, where (with a map link), the opening
hours, what to bring as the catalog says it, and the check-in QR code's page."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.appointments import Booking, Hall, HallRules, ToBring, day_zh
from app.domain.catalog import Matter
from app.services.notify import NOTIFY_TOPIC
from storage.documents import Transaction
from storage.outbox import enqueue

# WeChat cuts a text message at 2,048 bytes; the links the messenger adds take the rest.
TEXT_BUDGET = 1_700


def confirmation_text(
    booking: Booking, matter: Matter, hall: Hall, rules: HallRules, bring: list[ToBring]
) -> str:
    """The message's text; the list of materials gives way to the page's if it would not fit."""
    end = datetime.combine(booking.day, booking.slot) + timedelta(minutes=rules.slot_minutes)
    if booking.moved_from:
        head = f"【改约成功】{matter.name}，原预约二维码已失效，请出示新的二维码签到。"
    else:
        head = f"【预约成功】{matter.name}，到达后出示预约二维码签到取号。"
    lines = [
        head,
        f"时间：{day_zh(booking.day)}{booking.slot:%H:%M}—{end:%H:%M}",
        f"地点：{hall.place}",
        f"开放时间：{hall.hours}",
    ]
    text = "\n".join(lines)
    needed = [b for b in bring if b.required]
    sometimes = [b for b in bring if not b.required]
    listed = text
    if needed:
        listed += "\n请携带：\n" + "\n".join(f"{n}. {b}" for n, b in enumerate(needed, 1))
    if sometimes:
        listed += "\n按情形提交：\n" + "\n".join(f"· {b}" for b in sometimes)
    if not bring:
        listed += "\n所需材料均已在线提交，无需再带。"
    if len(listed.encode("utf-8")) <= TEXT_BUDGET:
        return listed
    return text + "\n需带的材料请见预约页面。"


async def confirm(
    tx: Transaction,
    booking: Booking,
    matter: Matter,
    hall: Hall,
    rules: HallRules,
    bring: list[ToBring],
    now: datetime,
) -> None:
    """Queue the confirmation with the booking (once per booking, whatever the retries)."""
    payload = {
        "case": booking.case_number or "",
        "applicant_id": booking.person,
        "state": "",
        "text": confirmation_text(booking, matter, hall, rules, bring),
        "path": f"/h5/bookings/{booking.id}",
        "link_label": "预约二维码",
        "links": map_links(hall),
    }
    await enqueue(tx, topic=NOTIFY_TOPIC, key=f"booked:{booking.id}", payload=payload, now=now)


def map_links(hall: Hall) -> list[dict[str, str]]:
    """The hall on a public map, as a message's extra link; none before its address is known."""
    return [{"url": hall.map_url, "label": "在地图中查看大厅位置"}] if hall.map_url else []
