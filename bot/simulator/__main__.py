"""``python -m bot.simulator``: the local WeChat platform as a process of its own, for a trial.

It plays WeChat for an account the service is configured with: the same
``BUCHUMEN_WECHAT_TOKEN``, ``_ENCODING_AES_KEY``, ``_APPID`` and ``_APPSECRET`` (read from the
environment, never from the command line), the service pointed at it by
``BUCHUMEN_WECHAT_API_BASE_URL`` and ``BUCHUMEN_WECHAT_OPEN_BASE_URL``. It runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.simulator.app import create_simulator, start_simulator
from bot.simulator.simulator import SIMULATOR

CREDENTIALS = (
    "BUCHUMEN_WECHAT_TOKEN",
    "BUCHUMEN_WECHAT_ENCODING_AES_KEY",
    "BUCHUMEN_WECHAT_APPID",
    "BUCHUMEN_WECHAT_APPSECRET",
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot.simulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument(
        "--callback-url", required=True, help="the account's /wechat, e.g. http://lb:8080/wechat"
    )
    p.add_argument("--public-url", help="where browsers reach this simulator (photo links)")
    p.add_argument("--history", type=Path, help="a file that keeps the chat page's conversations")
    p.add_argument("--mode", choices=["plain", "compatible", "safe"], default="safe")
    return p


async def run(args: argparse.Namespace, credentials: list[str]) -> None:
    token, aes_key, appid, secret = credentials
    app = create_simulator(
        token=token,
        encoding_aes_key=aes_key,
        appid=appid,
        secret=secret,
        callback_url=args.callback_url,
        mode=args.mode,
        history=args.history,
    )
    runner, url = await start_simulator(app, host=args.host, port=args.port)
    if args.public_url:
        app[SIMULATOR].base_url = args.public_url.rstrip("/")
    print(f"WeChat simulator on {url}, chat page {args.public_url or url}/chat", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    credentials = [os.environ.get(name, "").strip() for name in CREDENTIALS]
    missing = [name for name, value in zip(CREDENTIALS, credentials, strict=True) if not value]
    if missing:
        print(f"set {', '.join(missing)} (the account this simulator plays)", file=sys.stderr)
        return 2
    asyncio.run(run(args, credentials))
    return 0


if __name__ == "__main__":
    sys.exit(main())
