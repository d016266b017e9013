"""Accounts: ``token`` (an API token for an account), ``staff`` (create one, set its password,
disable it, or link the WeChat user its 督办 pushes go to), ``enterprise appoint`` (an
administrator records a legal representative)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from app.cli.common import console, settings_of

if TYPE_CHECKING:
    from app.settings import Settings


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tok = sub.add_parser("token", help="print an API token for an account (e.g. demo-citizen)")
    tok.add_argument("username")
    tok.add_argument("--hours", type=int, default=12)
    tok.add_argument("--demo", action="store_true", help="use the demo data directory's secret")
    tok.set_defaults(func=cmd_token)

    staff = sub.add_parser(
        "staff", help="create a staff account, set its password (ends its sessions), or disable it"
    )
    staff.add_argument("username")
    staff.add_argument("--role", choices=["reviewer", "supervisor", "admin", "courier", "kiosk"])
    staff.add_argument(
        "--disable",
        action="store_true",
        help="refuse its sign-in and end its sessions (a new password enables it again)",
    )
    staff.add_argument("--department", help="the reviewer's department code, e.g. scjg")
    staff.add_argument(
        "--wechat",
        metavar="OPENID",
        help="send this account's 督办 pushes to the WeChat user OPENID ('' to stop); "
        "no password asked",
    )
    staff.add_argument("--name", help="the name shown on pages")
    staff.add_argument("--demo", action="store_true", help="the demo data directory")
    staff.set_defaults(func=cmd_staff)

    firm = sub.add_parser("enterprise", help="record an enterprise's legal representative")
    firm.add_argument("action", choices=["appoint"])
    firm.add_argument("uscc", help="the enterprise's unified social credit code")
    firm.add_argument("id_number", help="the legal representative's ID number (already bound)")
    firm.add_argument("--reason", required=True, help="the basis, e.g. 变更登记通知书编号")
    firm.add_argument("--name", help="the enterprise's name as registered")
    firm.add_argument("--admin", default="demo-admin", help="the administrator's account")
    firm.add_argument("--demo", action="store_true", help="the demo data directory")
    firm.set_defaults(func=cmd_enterprise)


def cmd_token(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from app.api.tokens import TokenIssuer
    from app.services.accounts import actor_for
    from app.services.sessions import Use
    from app.wiring.stores import open_documents

    settings = settings_of(args)

    async def issue() -> str:
        async with open_documents(settings) as store:
            actor = await actor_for(store, args.username)
        issuer = TokenIssuer(
            settings.jwt_key, issuer=settings.jwt_issuer, ttl=timedelta(hours=args.hours)
        )
        return issuer.issue(actor, use=Use.API)  # for the API, not a page's cookie

    print(asyncio.run(issue()))
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    """Create a staff account, or set a new password (every session signed in with the old one
    ends); the password is read without echo. ``--disable`` disables the account instead."""
    import getpass

    from app.main import utcnow
    from app.services.staff import disable_staff_account, set_staff_account
    from app.wiring.stores import open_documents

    settings = settings_of(args)
    if args.wechat is not None:
        return _link_wechat(settings, args.username, args.wechat or None)
    if args.disable:

        async def disable() -> None:
            async with open_documents(settings) as store:
                await disable_staff_account(store, args.username, utcnow())

        try:
            asyncio.run(disable())
        except ValueError as exc:
            console.print(f"[red]{exc}[/]")
            return 2
        console.print(f"[green]disabled[/]: {args.username} (its sessions ended)")
        return 0
    if args.role is None:
        console.print("[red]请用 --role 指定角色（或用 --disable 停用账号）[/]")
        return 2
    # Typed without echo; a script pipes it on standard input instead.
    password = getpass.getpass("新密码：") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if len(password) < 10:
        console.print("[red]密码至少 10 个字符[/]")
        return 2

    async def save() -> str:
        async with open_documents(settings) as store:
            return await set_staff_account(
                store,
                args.username,
                role=args.role,
                department=args.department,
                name=args.name or args.username,
                password=password,
                now=utcnow(),
            )

    outcome = asyncio.run(save())
    console.print(f"[green]{outcome}[/]: {args.username} ({args.role})")
    return 0


def _link_wechat(settings: Settings, username: str, openid: str | None) -> int:
    from app.services.staff import link_staff_wechat
    from app.wiring.stores import open_documents

    async def link() -> None:
        async with open_documents(settings) as store:
            await link_staff_wechat(store, username, openid)

    try:
        asyncio.run(link())
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    console.print(f"[green]{'linked' if openid else 'unlinked'}[/]: {username}")
    return 0


def cmd_enterprise(args: argparse.Namespace) -> int:
    """An administrator records an enterprise's legal representative (audited, with the basis)."""
    from app.domain.errors import DomainError
    from app.main import utcnow
    from app.services.accounts import actor_for
    from app.wiring.services import open_services

    settings = settings_of(args)

    async def appoint() -> str:
        async with open_services(settings, utcnow) as services:
            admin = await actor_for(services.documents, args.admin)
            doc = await services.mandates.appoint(
                admin, args.uscc, args.id_number, name=args.name, reason=args.reason
            )
            return f"{doc['name'] or args.uscc}: 法定代表人 {doc['legal_rep_name']}"

    try:
        console.print(f"[green]{asyncio.run(appoint())}[/]")
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/]")
        return 2
    return 0
