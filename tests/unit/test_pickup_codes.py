"""Hand-over QR codes: what the pure codec accepts and refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from logistics.pickup_codes import (
    HandOver,
    PickupCodeRejected,
    PickupCodes,
    derive_key,
)
from tests.conftest import Clock

KEY = derive_key("a-jwt-secret-of-the-service-0123456789")


@pytest.fixture
def codes(clock: Clock) -> PickupCodes:
    return PickupCodes(KEY, clock=clock, ttl=timedelta(days=2))


def rejected(codes: PickupCodes, token: str, **binding: object) -> str:
    with pytest.raises(PickupCodeRejected) as raised:
        if binding:
            codes.verify(token, **binding)  # type: ignore[arg-type]
        else:
            codes.read(token)
    assert raised.value.message  # always a Chinese sentence for the person scanning
    return raised.value.reason


def test_an_issued_code_verifies_for_its_case_and_step(codes: PickupCodes, clock: Clock) -> None:
    issued = codes.issue("BCM-2026-000123", HandOver.PICKUP)

    claim = codes.verify(issued.token, case_number="BCM-2026-000123", step=HandOver.PICKUP)

    assert claim == issued.claim
    assert claim.expires_at == clock.now + timedelta(days=2)
    assert issued.token.startswith("BCMP1.BCM-2026-000123.pickup.")


def test_each_code_has_its_own_nonce(codes: PickupCodes) -> None:
    first, second = (codes.issue("BCM-2026-000123", HandOver.PICKUP) for _ in range(2))
    assert first.claim.nonce != second.claim.nonce and first.token != second.token


def test_a_code_for_another_case_or_step_is_refused(codes: PickupCodes) -> None:
    token = codes.issue("BCM-2026-000123", HandOver.PICKUP).token

    assert rejected(codes, token, case_number="BCM-2026-000124", step=HandOver.PICKUP) == (
        "other_case"
    )
    assert rejected(codes, token, case_number="BCM-2026-000123", step=HandOver.ARRIVAL) == (
        "other_step"
    )


def test_editing_any_part_of_a_code_is_forgery(codes: PickupCodes) -> None:
    token = codes.issue("BCM-2026-000123", HandOver.PICKUP).token
    prefix, case, step, nonce, expires, sig = token.split(".")
    edits = [
        ".".join([prefix, "BCM-2026-000124", step, nonce, expires, sig]),
        ".".join([prefix, case, "delivery", nonce, expires, sig]),
        ".".join([prefix, case, step, nonce, str(int(expires) + 86400), sig]),
        ".".join([prefix, case, step, nonce, expires, ("A" if sig[0] != "A" else "B") + sig[1:]]),
    ]
    assert [rejected(codes, t) for t in edits] == ["forged"] * 4


def test_a_code_signed_with_another_key_is_forged(codes: PickupCodes, clock: Clock) -> None:
    other = PickupCodes(derive_key("another-secret-entirely-0123456789"), clock=clock)
    token = other.issue("BCM-2026-000123", HandOver.PICKUP).token
    assert rejected(codes, token) == "forged"


def test_an_expired_code_is_refused(codes: PickupCodes, clock: Clock) -> None:
    token = codes.issue("BCM-2026-000123", HandOver.DISPATCH).token
    clock.advance(days=2)
    assert rejected(codes, token) == "expired"


@pytest.mark.parametrize(
    "token",
    ["", "hello", "BCMP1.a.b.c.d.e", "BCMP2.BCM-1.pickup.AAAAAAAAAAAAAAAA.1.AAAAAAAAAAAAAAAAAAAAAA",
     "https://example.com/?code=BCMP1", "BCMP1." + "x" * 200],
)  # fmt: skip
def test_garbage_is_malformed_not_an_error(codes: PickupCodes, token: str) -> None:
    assert rejected(codes, token) == "malformed"


def test_surrounding_whitespace_from_a_typed_code_is_forgiven(codes: PickupCodes) -> None:
    issued = codes.issue("BCM-2026-000123", HandOver.ARRIVAL)
    assert codes.read(f"  {issued.token}\n") == issued.claim


def test_the_replay_refusal_the_service_raises_speaks_chinese() -> None:
    refusal = PickupCodeRejected.replayed()
    assert refusal.reason == "replayed" and "已使用" in refusal.message


def test_the_code_renders_as_an_inline_svg_qr(codes: PickupCodes) -> None:
    svg = codes.issue("BCM-2026-000123", HandOver.PICKUP).qr_svg()
    assert svg.startswith("<svg") and "</svg>" in svg


def test_keys_are_derived_and_must_be_long_enough() -> None:
    assert derive_key("s") != derive_key("t") and len(derive_key("s")) == 32
    with pytest.raises(ValueError, match="32 bytes"):
        PickupCodes(b"short")
    with pytest.raises(ValueError, match="case number"):
        PickupCodes(KEY).issue("BCM.2026", HandOver.PICKUP)


def test_codes_use_the_clock_they_are_given() -> None:
    fixed = datetime(2030, 1, 1, tzinfo=UTC)
    issued = PickupCodes(KEY, clock=lambda: fixed).issue("BCM-1", HandOver.DELIVERY)
    assert issued.claim.expires_at == fixed + timedelta(days=7)
