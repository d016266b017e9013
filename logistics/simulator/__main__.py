"""``python -m logistics.simulator``: the local SF Express (丰桥) as its own process, for a trial.

It plays SF for the partner the service is configured with: the same ``BUCHUMEN_SF_PARTNER_ID``
and ``BUCHUMEN_SF_CHECK_WORD`` (read from the environment, never from the command line), the
service pointed at it by ``BUCHUMEN_SF_API_URL``. Route pushes go to ``--callback-url``, the
push address a partner sets in SF's console. It runs until SIGTERM.

SF's own scans of a parcel are not something the service can tell SF: with ``--travel N`` each
parcel booked here starts its journey (collected, in transit, out for delivery, signed for) N
seconds after it is booked, one scan every N seconds, unless it was cancelled by then.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from logistics.simulator.app import create_sf_simulator, start_sf_simulator
from logistics.simulator.simulator import SF_SIMULATOR, SfSimulator

CREDENTIALS = ("BUCHUMEN_SF_PARTNER_ID", "BUCHUMEN_SF_CHECK_WORD")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m logistics.simulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8083)
    p.add_argument(
        "--callback-url", required=True, help="the route push URL, e.g. http://lb:8080/sf/routes"
    )
    p.add_argument(
        "--travel", type=float, default=0, metavar="SECONDS", help="0: parcels stay where booked"
    )
    return p


async def travel(simulator: SfSimulator, seconds: float, *, poll: float = 1.0) -> None:
    """Start each booked parcel's journey once it has waited ``seconds`` uncancelled."""
    clock = asyncio.get_running_loop().time
    booked: dict[str, float] = {}  # waybill -> when first seen; dropped once it started
    done: set[str] = set()
    while True:
        for order in list(simulator.state.orders.values()):
            waybill = order.waybill_no
            if waybill in done:
                continue
            since = booked.setdefault(waybill, clock())
            if clock() - since >= seconds:
                done.add(waybill)
                del booked[waybill]
                if not order.cancelled:
                    simulator.play_later(waybill, interval=seconds)
        await asyncio.sleep(min(poll, seconds))


async def run(args: argparse.Namespace, partner_id: str, check_word: str) -> None:
    app = create_sf_simulator(
        partner_id=partner_id, check_word=check_word, callback_url=args.callback_url
    )
    runner, url = await start_sf_simulator(app, host=args.host, port=args.port)
    print(f"SF simulator on {url}, pushing routes to {args.callback_url}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    mover = asyncio.create_task(travel(app[SF_SIMULATOR], args.travel)) if args.travel else None
    try:
        await stop.wait()
    finally:
        if mover is not None:
            mover.cancel()
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    credentials = [os.environ.get(name, "").strip() for name in CREDENTIALS]
    missing = [name for name, value in zip(CREDENTIALS, credentials, strict=True) if not value]
    if missing:
        print(f"set {', '.join(missing)} (the partner this simulator plays)", file=sys.stderr)
        return 2
    asyncio.run(run(args, *credentials))
    return 0


if __name__ == "__main__":
    sys.exit(main())
