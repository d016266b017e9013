"""``buchumen hall``: a hall's booking rules; who is restricted for no-shows, and lifting it."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date, time

from app.cli.common import console, settings_of


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    hall = sub.add_parser(
        "hall", help="a hall's booking rules; who is restricted for no-shows, and lifting it"
    )
    hall.add_argument("action", choices=["set", "lift", "restricted"])
    hall.add_argument(
        "target", nargs="?", default="", help="set: a department code (e.g. mz); lift: a username"
    )
    hall.add_argument("--capacity", type=int, help="applicants per half-hour slot")
    hall.add_argument("--cutoff-hours", type=float, help="no cancelling closer than this")
    hall.add_argument(
        "--close",
        action="append",
        default=[],
        type=date.fromisoformat,
        help="YYYY-MM-DD, repeatable",
    )
    hall.add_argument(
        "--reopen",
        action="append",
        default=[],
        type=date.fromisoformat,
        help="YYYY-MM-DD, repeatable",
    )
    hall.add_argument(
        "--slot",
        action="append",
        default=[],
        type=_slot_places,
        help="HH:MM=N: places in that half-hour (0 closes it; HH:MM=default undoes), repeatable",
    )
    hall.add_argument(
        "--no-show-limit", type=int, help="missed visits that pause online booking (e.g. 3)"
    )
    hall.add_argument("--no-show-days", type=int, help="... counted over this many days (30)")
    hall.add_argument("--restrict-days", type=int, help="... pausing it for this many days (30)")
    hall.add_argument("--demo", action="store_true", help="the demo data directory")
    hall.set_defaults(func=cmd_hall, parser=hall)


def cmd_hall(args: argparse.Namespace) -> int:
    """Administrators: a hall's capacity, cut-off and closed days; lift a booking restriction."""
    from app.domain.actors import Actor, Role
    from app.domain.cases import CHINA
    from app.domain.errors import DomainError
    from app.main import utcnow
    from app.wiring.services import open_services

    if args.action != "restricted" and not args.target:
        args.parser.error("hall set needs a department code, hall lift a username")
    settings = settings_of(args)
    admin = Actor("cli-admin", Role.ADMIN)  # whoever runs the command on the server

    async def run() -> str:
        async with open_services(settings, utcnow) as services:
            hall = services.appointments
            if args.action == "lift":
                await hall.admin.lift_restriction(admin, args.target)
                return f"{args.target} 可以重新在线预约"
            if args.action == "restricted":
                lines = [
                    f"{who}（{department} 大厅）：多次预约未到，"
                    f"{until.astimezone(CHINA):%Y-%m-%d %H:%M} 前不能在线预约"
                    for who, department, until in await hall.admin.restrictions()
                ]
                return "\n".join(lines) or "目前没有被限制在线预约的申请人"
            rules = await hall.admin.set_rules(
                admin,
                args.target,
                capacity=args.capacity,
                cutoff_hours=args.cutoff_hours,
                close=args.close,
                reopen=args.reopen,
                slots=dict(args.slot),
                no_show_limit=args.no_show_limit,
                no_show_days=args.no_show_days,
                restrict_days=args.restrict_days,
            )
            closed = "、".join(sorted(d.isoformat() for d in rules.closures)) or "无"
            own = "、".join(f"{t:%H:%M} {n} 人" for t, n in rules.slot_capacity)
            return (
                f"{args.target}：每时段 {rules.capacity} 人{f'（{own}）' if own else ''}，"
                f"提前 {rules.cutoff.total_seconds() / 3600:g} 小时截止取消，闭厅日：{closed}\n"
                f"未到规则：{rules.no_show_window.days} 天内未到 {rules.no_show_limit} 次，"
                f"暂停在线预约 {rules.restriction.days} 天"
            )

    try:
        console.print(asyncio.run(run()), soft_wrap=True)  # one line per hall, uncut
    except DomainError as exc:
        console.print(f"[bold red]{exc.message}[/]", highlight=False)
        return 1
    return 0


def _slot_places(text: str) -> tuple[time, int | None]:
    """``HH:MM=N`` (N places in that half-hour, 0 closes it) or ``HH:MM=default``."""
    from app.domain.appointments import slot_places

    try:
        return slot_places(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected HH:MM=N or HH:MM=default, got {text!r}"
        ) from exc
