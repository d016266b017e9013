"""The ``buchumen`` command: one module per command group, assembled here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.cli import accounts, bench, calendar, catalog, counters, hall, serve, wechat, worker
from app.cli.common import console
from app.settings import SettingsError

GROUPS = (serve, worker, catalog, accounts, hall, counters, calendar, wechat, bench)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="buchumen", description="不出门办 service")
    sub = p.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        console.print(f"[bold red]configuration error[/]\n{exc}", highlight=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())
