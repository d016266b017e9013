"""``python -m payments.simulator``: the local Alipay as a process of its own, for a trial.

It plays Alipay for the application the service is configured with: the same
``BUCHUMEN_ALIPAY_APP_ID`` and ``_SELLER_ID``, and, as Alipay holds them, the application's
public key (``BUCHUMEN_ALIPAY_APP_PUBLIC_KEY_FILE``) and its own private key
(``BUCHUMEN_ALIPAY_SIMULATOR_PRIVATE_KEY_FILE``), all from the environment, never from the
command line. The service is pointed at it by ``BUCHUMEN_ALIPAY_GATEWAY_URL``; notifications go
to the ``notify_url`` of each payment, as Alipay sends them. It runs until SIGTERM.

``--make-keys DIR`` writes the trial's two key pairs into DIR (keeping a private key already
there) and exits: the service's files and the simulator's, under the names in ``KEY_FILES``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from payments.signing import (
    new_key_pair,
    private_key_pem,
    public_key_pem,
    read_private_key,
    read_public_key,
)
from payments.simulator.app import create_alipay_simulator, start_alipay_simulator
from payments.simulator.gateway import SIMULATOR

KeyPair = tuple[rsa.RSAPublicKey, rsa.RSAPrivateKey]  # the app's public key, Alipay's private

CREDENTIALS = (
    "BUCHUMEN_ALIPAY_APP_ID",
    "BUCHUMEN_ALIPAY_SELLER_ID",
    "BUCHUMEN_ALIPAY_APP_PUBLIC_KEY_FILE",
    "BUCHUMEN_ALIPAY_SIMULATOR_PRIVATE_KEY_FILE",
)
# (private key, public key) of each pair --make-keys writes; the service reads the app's
# private key and Alipay's public key, the simulator the other two.
KEY_FILES = {
    "app": ("alipay-app-private-key.pem", "alipay-app-public-key.pem"),
    "alipay": ("alipay-simulator-private-key.pem", "alipay-public-key.pem"),
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m payments.simulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8082)
    p.add_argument("--public-url", help="where browsers reach this simulator (the cashier page)")
    p.add_argument("--make-keys", type=Path, metavar="DIR", help="write the key files and exit")
    return p


def make_keys(directory: Path) -> None:
    """Each pair's private key (kept if there) and its public key beside it, always matching."""
    directory.mkdir(parents=True, exist_ok=True)
    for private_name, public_name in KEY_FILES.values():
        private_path = directory / private_name
        if private_path.is_file():
            key = read_private_key(private_path)
        else:
            key = new_key_pair()
            private_path.touch(mode=0o600)
            private_path.write_text(private_key_pem(key), encoding="ascii")
        (directory / public_name).write_text(public_key_pem(key.public_key()), encoding="ascii")


def read_keys(app_public: str, own_private: str) -> KeyPair:
    """Both keys; ValueError naming the variable whose file is not the key it should be."""
    try:
        public = read_public_key(Path(app_public))
    except (OSError, ValueError) as e:
        raise ValueError(
            f"BUCHUMEN_ALIPAY_APP_PUBLIC_KEY_FILE: not an RSA public key ({e})"
        ) from None
    try:
        private = read_private_key(Path(own_private))
    except (OSError, ValueError) as e:
        raise ValueError(
            f"BUCHUMEN_ALIPAY_SIMULATOR_PRIVATE_KEY_FILE: not an RSA key ({e})"
        ) from None
    return public, private


async def run(args: argparse.Namespace, app_id: str, seller_id: str, keys: KeyPair) -> None:
    app_public_key, alipay_private_key = keys
    app = create_alipay_simulator(
        app_id=app_id,
        app_public_key=app_public_key,
        seller_id=seller_id,
        alipay_private_key=alipay_private_key,
    )
    runner, url = await start_alipay_simulator(app, host=args.host, port=args.port)
    if args.public_url:  # the cashier's address as browsers see it
        app[SIMULATOR].base_url = args.public_url.rstrip("/")
    public = app[SIMULATOR].base_url
    print(f"Alipay simulator on {url}, cashier pages under {public}/cashier/", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.make_keys:
        make_keys(args.make_keys)
        print(f"Alipay trial keys in {args.make_keys}", flush=True)
        return 0
    credentials = [os.environ.get(name, "").strip() for name in CREDENTIALS]
    missing = [name for name, value in zip(CREDENTIALS, credentials, strict=True) if not value]
    if missing:
        print(f"set {', '.join(missing)} (the application this simulator plays)", file=sys.stderr)
        return 2
    app_id, seller_id, app_public_file, private_file = credentials
    try:
        keys = read_keys(app_public_file, private_file)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    asyncio.run(run(args, app_id, seller_id, keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
