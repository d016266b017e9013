"""What every command shares: the console it talks on, and the settings it runs with."""

from __future__ import annotations

import argparse

from rich.console import Console

from app.settings import Settings, load_settings

console = Console(stderr=True)


def settings_of(args: argparse.Namespace) -> Settings:
    overrides = {"demo": True} if getattr(args, "demo", False) else {}
    return load_settings(**overrides)
