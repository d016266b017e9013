"""The IdentityVerifier contract over every adapter this machine can run.

TencentFaceIdVerifier always runs against the local FaceID. It also runs against Tencent Cloud's
FaceID when BUCHUMEN_TENCENT_SECRET_ID and BUCHUMEN_TENCENT_SECRET_KEY are set, with a real
person on record from BUCHUMEN_REALNAME_TEST_NAME and BUCHUMEN_REALNAME_TEST_ID (each match or
mismatch there is a charged call). Faults can only be switched on in the local FaceID.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.domain.identity import parse_citizen_id
from app.realname import faceid, tc3
from app.realname.demo import demo_verifier
from app.realname.port import Reason, Verdict, Verification, VerifierUnavailable, mask_id_number
from app.realname.simulator import (
    DEMO_REGISTER,
    FaceIdSimulator,
    Fault,
    number_of,
    running_faceid_simulator,
)
from app.realname.tencent import TencentFaceIdVerifier
from tests.unit.test_layers import imports_of

TENCENT_SKIP = (
    "set BUCHUMEN_TENCENT_SECRET_ID and BUCHUMEN_TENCENT_SECRET_KEY to run the real-name "
    "contract tests against Tencent Cloud FaceID"
)
PERSON_SKIP = (
    "set BUCHUMEN_REALNAME_TEST_NAME and BUCHUMEN_REALNAME_TEST_ID (a real person on record) "
    "to run the real-name contract tests against Tencent Cloud FaceID"
)
UNKNOWN_SKIP = "set BUCHUMEN_REALNAME_UNKNOWN_ID (a valid number with no record) for this test"
UNKNOWN_ID = "110101200001010010"  # passes GB 11643, in no demo register
FAULT_SKIP = "faults can only be switched on in the local FaceID"


@dataclass(frozen=True)
class Site:
    """Where a verifier is pointed, one person on record there, and the local FaceID if local."""

    endpoint: str
    secret_id: str
    secret_key: str
    name: str
    id_number: str
    unknown_id: str | None
    simulator: FaceIdSimulator | None

    def verifier(self, **overrides: Any) -> TencentFaceIdVerifier:
        secret_id = overrides.pop("secret_id", self.secret_id)
        secret_key = overrides.pop("secret_key", self.secret_key)
        options: dict[str, Any] = {"endpoint": self.endpoint, "timeout": 10.0} | overrides
        return TencentFaceIdVerifier(secret_id, secret_key, **options)

    @property
    def other_name(self) -> str:
        """A well-formed name that is not the person's."""
        return "王某某" if self.name != "王某某" else "李某某"

    def local(self) -> FaceIdSimulator:
        if self.simulator is None:
            pytest.skip(FAULT_SKIP)
        return self.simulator


@asynccontextmanager
async def local_faceid() -> AsyncIterator[Site]:
    async with running_faceid_simulator(slow_seconds=5.0) as running:
        yield Site(
            endpoint=running.endpoint,
            secret_id=running.secret_id,
            secret_key=running.secret_key,
            name="李四",
            id_number=number_of("李四"),
            unknown_id=UNKNOWN_ID,
            simulator=running.simulator,
        )


@asynccontextmanager
async def tencent_faceid() -> AsyncIterator[Site]:
    secret_id = os.environ.get("BUCHUMEN_TENCENT_SECRET_ID", "")
    secret_key = os.environ.get("BUCHUMEN_TENCENT_SECRET_KEY", "")
    if not (secret_id and secret_key):
        pytest.skip(TENCENT_SKIP)
    name = os.environ.get("BUCHUMEN_REALNAME_TEST_NAME", "")
    id_number = os.environ.get("BUCHUMEN_REALNAME_TEST_ID", "")
    if not (name and id_number):
        pytest.skip(PERSON_SKIP)
    yield Site(
        endpoint=os.environ.get("BUCHUMEN_FACEID_ENDPOINT", faceid.DEFAULT_ENDPOINT),
        secret_id=secret_id,
        secret_key=secret_key,
        name=name,
        id_number=id_number,
        unknown_id=os.environ.get("BUCHUMEN_REALNAME_UNKNOWN_ID") or None,
        simulator=None,
    )


SITES: dict[str, Callable[[], AbstractAsyncContextManager[Site]]] = {
    "local-faceid": local_faceid,  # the Tencent adapter against the local FaceID
    "tencent": tencent_faceid,  # the Tencent adapter against Tencent Cloud, when configured
}


@pytest.fixture(params=list(SITES))
async def site(request: pytest.FixtureRequest) -> AsyncIterator[Site]:
    async with SITES[request.param]() as site:
        yield site


@pytest.fixture
async def verifier(site: Site) -> AsyncIterator[TencentFaceIdVerifier]:
    verifier = site.verifier()
    try:
        yield verifier
    finally:
        await verifier.close()


async def unavailable(site: Site, **overrides: Any) -> VerifierUnavailable:
    """The VerifierUnavailable a verifier built with ``overrides`` raises for the person."""
    verifier = site.verifier(**overrides)
    try:
        with pytest.raises(VerifierUnavailable) as caught:
            await verifier.verify(site.name, site.id_number)
    finally:
        await verifier.close()
    return caught.value


# --- definite answers ------------------------------------------------------------------------


async def test_a_name_and_number_on_record_together_match(
    site: Site, verifier: TencentFaceIdVerifier
) -> None:
    checked = await verifier.verify(site.name, site.id_number)

    assert checked.verdict is Verdict.MATCH
    assert checked.reason is Reason.CONSISTENT
    assert checked.matched
    assert checked.request_id
    assert checked.message == "实名核验通过。"


async def test_spaces_and_a_lowercase_x_are_forgiven(
    site: Site, verifier: TencentFaceIdVerifier
) -> None:
    checked = await verifier.verify(f" {site.name} ", f" {site.id_number.lower()} ")

    assert checked.verdict is Verdict.MATCH


async def test_a_number_on_record_under_another_name_is_a_mismatch(
    site: Site, verifier: TencentFaceIdVerifier
) -> None:
    checked = await verifier.verify(site.other_name, site.id_number)

    assert checked.verdict is Verdict.MISMATCH
    assert checked.reason is Reason.INCONSISTENT
    assert not checked.matched
    assert "不一致" in checked.message


async def test_a_valid_number_with_no_record_is_a_mismatch_saying_so(
    site: Site, verifier: TencentFaceIdVerifier
) -> None:
    if site.unknown_id is None:
        pytest.skip(UNKNOWN_SKIP)

    checked = await verifier.verify(site.name, site.unknown_id)

    assert checked.verdict is Verdict.MISMATCH
    assert checked.reason is Reason.NO_RECORD
    assert "户籍所在地" in checked.message


async def test_a_number_with_a_wrong_check_character_is_a_mismatch(
    site: Site, verifier: TencentFaceIdVerifier
) -> None:
    wrong = "0" if site.id_number[17] != "0" else "1"

    checked = await verifier.verify(site.name, site.id_number[:17] + wrong)

    assert checked.verdict is Verdict.MISMATCH
    assert checked.reason is Reason.INVALID_ID_NUMBER


async def test_a_malformed_name_is_a_mismatch(site: Site, verifier: TencentFaceIdVerifier) -> None:
    checked = await verifier.verify("张3", site.id_number)

    assert checked.verdict is Verdict.MISMATCH
    assert checked.reason is Reason.INVALID_NAME


@pytest.mark.parametrize(("name", "id_number"), [("", "110101199003074477"), ("李四", "  ")])
async def test_an_empty_name_or_number_is_refused_before_any_call(
    site: Site, verifier: TencentFaceIdVerifier, name: str, id_number: str
) -> None:
    with pytest.raises(ValueError, match="both needed"):
        await verifier.verify(name, id_number)
    if site.simulator is not None:
        assert site.simulator.calls == 0


# --- refused by the provider: never a match --------------------------------------------------


async def test_a_request_signed_with_the_wrong_secret_key_is_refused(site: Site) -> None:
    caught = await unavailable(site, secret_key=site.secret_key[::-1] + "x")

    assert caught.code == faceid.SIGNATURE_FAILURE
    assert caught.request_id
    assert caught.message == "实名核验服务暂时不可用，请稍后再试。"


async def test_an_unknown_secret_id_is_refused(site: Site) -> None:
    caught = await unavailable(site, secret_id="AKID" + "0" * 32)

    assert caught.code == faceid.SECRET_ID_NOT_FOUND


@pytest.mark.parametrize("skew", [-600, +600])
async def test_a_timestamp_more_than_five_minutes_off_is_refused(site: Site, skew: int) -> None:
    caught = await unavailable(site, clock=lambda: time.time() + skew)

    assert caught.code == faceid.SIGNATURE_EXPIRE


# --- the local FaceID's faults ---------------------------------------------------------------

FAULT_CODES = {Fault.INTERNAL_ERROR: "InternalError", Fault.RATE_LIMITED: "RequestLimitExceeded"}


@pytest.mark.parametrize("fault", list(Fault))
async def test_every_fault_is_unavailable_and_never_a_match(site: Site, fault: Fault) -> None:
    site.local().fault = fault

    caught = await unavailable(site, timeout=0.3)

    assert caught.code == FAULT_CODES.get(fault, "")
    assert site.local().checks == []


@pytest.mark.parametrize(
    ("result", "words"),
    [("-4", "稍后再试"), ("-6", "升级中"), ("-7", "明天再试")],
)
async def test_results_that_are_no_verdict_are_unavailable(
    site: Site, result: str, words: str
) -> None:
    site.local().forced_result = result

    caught = await unavailable(site)

    assert caught.code == result
    assert words in caught.message


@pytest.mark.parametrize("result", ["1", "-8", "00", ""])
async def test_an_undocumented_result_is_unavailable(site: Site, result: str) -> None:
    site.local().forced_result = result

    await unavailable(site)


async def test_every_request_is_counted_refused_or_not(site: Site) -> None:
    local = site.local()
    good = site.verifier()
    forged = site.verifier(secret_key="not-the-key")
    try:
        for _ in range(3):
            await good.verify(site.name, site.id_number)
        with pytest.raises(VerifierUnavailable):
            await forged.verify(site.name, site.id_number)
    finally:
        await good.close()
        await forged.close()

    assert local.calls == 4
    assert local.checks == [(site.name, site.id_number)] * 3
    assert local.errors == [faceid.SIGNATURE_FAILURE]


async def test_logs_carry_the_number_masked_and_never_the_name(
    site: Site, verifier: TencentFaceIdVerifier, log_buffer: io.StringIO
) -> None:
    local = site.local()
    await verifier.verify(site.name, site.id_number)
    await verifier.verify(site.other_name, site.id_number)
    local.forced_result = "-7"
    with pytest.raises(VerifierUnavailable):
        await verifier.verify(site.name, site.id_number)
    local.forced_result, local.fault = None, Fault.INTERNAL_ERROR
    with pytest.raises(VerifierUnavailable) as caught:
        await verifier.verify(site.name, site.id_number)

    written = log_buffer.getvalue()  # what the service writes: JSON lines, masked
    said = [json.loads(line) for line in written.splitlines()]
    ours = [line for line in said if line["logger"] == "app.realname.tencent"]
    assert [(line["event"], line["level"]) for line in ours] == [
        ("faceid_checked", "info"),
        ("faceid_checked", "info"),
        ("faceid_no_verdict", "warning"),
        ("faceid_error", "warning"),
    ]
    # The adapter masks the number itself; the log's own mask is a second line of defence.
    masked = mask_id_number(site.id_number)
    assert [line.get("id_number") for line in ours] == [masked, masked, masked, None]
    assert [line["verdict"] for line in ours[:2]] == ["match", "mismatch"]
    assert (ours[2]["result"], ours[3]["code"]) == ("-7", "InternalError")
    for secret in (site.id_number, site.name, site.secret_key):
        assert secret not in written
        assert secret not in str(caught.value)


# --- the local FaceID checks what Tencent checks ---------------------------------------------


async def post_signed(
    site: Site, body: bytes, signed_body: bytes | None = None, replace: dict[str, str] | None = None
) -> dict[str, Any]:
    """POST ``body`` with headers signed over ``signed_body`` (default: the body itself)."""
    host = site.endpoint.removeprefix("http://")
    headers = tc3.signed_json_headers(
        secret_id=site.secret_id,
        secret_key=site.secret_key,
        service=faceid.SERVICE,
        host=host,
        action=faceid.ACTION,
        version=faceid.VERSION,
        region="",
        payload=body if signed_body is None else signed_body,
        timestamp=int(time.time()),
    )
    async with (
        aiohttp.ClientSession() as session,
        session.post(site.endpoint + "/", data=body, headers=headers | (replace or {})) as r,
    ):
        answer: dict[str, Any] = (await r.json())["Response"]
        return answer


async def test_the_signature_covers_the_body(site: Site) -> None:
    site.local()
    signed = json.dumps({"IdCard": site.id_number, "Name": site.name}).encode()
    sent = json.dumps({"IdCard": site.id_number, "Name": site.other_name}).encode()

    answer = await post_signed(site, sent, signed_body=signed)

    assert answer["Error"]["Code"] == faceid.SIGNATURE_FAILURE


@pytest.mark.parametrize(
    ("header", "value", "code"),
    [
        ("X-TC-Action", "DescribeInstances", faceid.INVALID_ACTION),
        ("X-TC-Version", "2017-03-12", faceid.NO_SUCH_VERSION),
        ("Authorization", "TC3-HMAC-SHA256 Credential=x", faceid.INVALID_AUTHORIZATION),
    ],
)
async def test_the_action_version_and_authorization_header_are_checked(
    site: Site, header: str, value: str, code: str
) -> None:
    site.local()
    body = json.dumps({"IdCard": site.id_number, "Name": site.name}).encode()

    answer = await post_signed(site, body, replace={header: value})

    assert answer["Error"]["Code"] == code
    assert answer["RequestId"]


async def test_a_body_without_the_parameters_is_an_invalid_parameter(site: Site) -> None:
    site.local()

    answer = await post_signed(site, b'{"IdCard": 110101199003074477}')

    assert answer["Error"]["Code"] == faceid.INVALID_PARAMETER


# --- the port's own rules, the demo, the package's independence ------------------------------


def test_only_a_consistent_reason_goes_with_a_match() -> None:
    with pytest.raises(ValueError, match="cannot have"):
        Verification(Verdict.MATCH, Reason.NO_RECORD, "r")
    with pytest.raises(ValueError, match="cannot have"):
        Verification(Verdict.MISMATCH, Reason.CONSISTENT, "r")


def test_an_endpoint_must_be_a_url_and_keys_are_needed() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        TencentFaceIdVerifier("AKID", "key", endpoint="faceid.tencentcloudapi.com")
    with pytest.raises(ValueError, match="SecretKey"):
        TencentFaceIdVerifier("AKID", "")
    assert "key" not in repr(TencentFaceIdVerifier("AKIDx", "key"))


def test_the_demo_register_holds_valid_numbers_and_an_applicant_over_sixty() -> None:
    today = date(2026, 1, 1)
    people = {name: parse_citizen_id(n, today=today) for n, name in DEMO_REGISTER.items()}

    assert {"张三", "李四", "王五", "赵敏"} <= set(people)
    assert number_of("张三") == "11010519491231002X"
    assert people["赵敏"].birth_date.year == 1950


async def test_the_demo_verifier_matches_the_demo_people() -> None:
    async with demo_verifier() as (verifier, running):
        for number, name in DEMO_REGISTER.items():
            assert (await verifier.verify(name, number)).matched
        assert not (await verifier.verify("赵敏", number_of("张三"))).matched

    assert running.simulator.calls == len(DEMO_REGISTER) + 1


def test_the_realname_package_imports_nothing_else_of_ours() -> None:
    base = Path(__file__).resolve().parents[2] / "app" / "realname"
    for path in sorted(base.rglob("*.py")):
        assert {i for i in imports_of(path) if not i.startswith("app.realname")} == set(), path
