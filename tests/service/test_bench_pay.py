"""``buchumen bench pay`` runs end to end on a few notices and says every order settled once."""

from __future__ import annotations

from rich.console import Console

from app.bench.pay import run_pay_bench


async def test_the_pay_bench_prints_its_figures_and_settles_every_order_once() -> None:
    console = Console(record=True, width=200)
    assert await run_pay_bench(notices=20, console=console) == 0
    out = console.export_text()
    assert "ratio to bare RSA2" in out and "POST /alipay/notify" in out
    assert "Every order settled exactly once." in out
