"""``buchumen calendar``: working-day overrides (the State Council's holiday schedule)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date

from app.cli.common import console, settings_of


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cal = sub.add_parser("calendar", help="list or set working-day overrides")
    cal.add_argument("action", choices=["list", "set"])
    cal.add_argument("day", nargs="?", help="YYYY-MM-DD (for set)")
    cal.add_argument("workday", nargs="?", choices=["work", "off"], help="(for set)")
    cal.add_argument("--note", default="", help="basis, e.g. 国办发明电〔2026〕7号")
    cal.add_argument("--year", type=int)
    cal.set_defaults(func=cmd_calendar, parser=cal)


def cmd_calendar(args: argparse.Namespace) -> int:
    from app.domain.actors import Actor, Role
    from app.main import utcnow
    from app.services.calendar import CalendarService
    from app.wiring.stores import open_documents

    if args.action == "set" and not (args.day and args.workday):
        args.parser.error("calendar set needs DAY and work|off")
    settings = settings_of(args)

    async def run() -> None:
        async with open_documents(settings) as store:
            service = CalendarService(store)
            if args.action == "set":
                admin = Actor("cli-admin", Role.ADMIN)
                await service.set_override(
                    admin,
                    date.fromisoformat(args.day),
                    workday=args.workday == "work",
                    note=args.note,
                    now=utcnow(),
                )
            for doc in await service.overrides(args.year):
                kind = "working day" if doc["workday"] else "day off"
                console.print(f"{doc['_id']}  {kind:11}  {doc['note']}", highlight=False)
            missing = await service.uncovered_years(utcnow().date())
            for year in missing:
                console.print(
                    f"[yellow]warning[/]: no statutory holiday data for {year}; "
                    "enter the State Council's schedule with `calendar set`"
                )

    asyncio.run(run())
    return 0
