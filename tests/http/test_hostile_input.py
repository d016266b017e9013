"""Input built to break the parsers gets a 400 with the usual error body, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from app.edge.bounds import MAX_JSON_DEPTH, bounded_int, load_json
from app.edge.errors import BadRequest
from tests.http.conftest import Api, open_case
from tests.http.test_staff_pages import sign_in


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("[" * 100_000 + "]" * 100_000, "too_deep"),
        ('{"matter_code": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001, "too_deep"),
        ('{"matter_code": "x", "enterprise": ' + "[" * 40 + "]" * 40 + "}", "too_deep"),
        ('{"matter_code": ' + "9" * 5_000 + "}", "number_out_of_range"),
        ('{"matter_code": 1e999}', "number_out_of_range"),
        ('{"matter_code": NaN}', "malformed_json"),
    ],
    ids=["array-100000-deep", "object-100000-deep", "40-deep", "5000-digits", "inf", "nan"],
)
async def test_a_json_body_too_deep_or_with_an_absurd_number_is_a_400(
    api: Api, body: str, code: str
) -> None:
    status, answer = await api.call(
        "POST", "/cases", "demo-citizen", data=body, headers={"Content-Type": "application/json"}
    )
    assert status == 400 and answer["error"]["code"] == code, answer
    assert answer["error"]["message"]
    assert await api.count("cases") == 0


async def test_a_stale_version_far_past_int64_is_refused_before_the_store(api: Api) -> None:
    case = await open_case(api)
    body = '{"version": 1' + "0" * 30 + "}"
    path = f"/cases/{case['number']}/submit"
    status, answer = await api.call("POST", path, "demo-citizen", data=body)
    assert status == 400 and answer["error"]["code"] == "number_out_of_range"


@pytest.mark.parametrize(
    "query",
    [
        "/cases?page=99999999999999999999",
        f"/cases?page={2**62}",
        "/cases?page=0",
        "/cases?page=%C2%B2",  # "²": str.isdigit() says yes, int() says no
        "/cases?page=%D9%A3",  # "٣", an Arabic-Indic three: int() would take it
        f"/cases?size={2**62}",
        "/calendar/overrides?year=1e20",
        "/calendar/overrides?year=99999999999",
    ],
)
async def test_a_number_out_of_bounds_in_the_query_is_a_400_naming_it(api: Api, query: str) -> None:
    who = "demo-admin" if "calendar" in query else "demo-citizen"
    status, answer = await api.call("GET", query, who)
    assert status == 400, answer
    assert answer["error"]["code"] == "invalid_query"
    name = query.split("?")[1].split("=")[0]
    assert f"参数 {name} 须为" in answer["error"]["message"]


async def test_numbers_within_bounds_still_work(api: Api) -> None:
    await open_case(api)
    status, answer = await api.call("GET", "/cases?page=1&size=100", "demo-citizen")
    assert status == 200 and answer["page"] == 1 and answer["size"] == 100
    status, answer = await api.call("GET", "/cases?page=100000", "demo-citizen")
    assert status == 200 and answer["items"] == []
    status, _ = await api.call("GET", "/calendar/overrides?year=2027", "demo-admin")
    assert status == 200


async def test_a_page_number_out_of_bounds_on_a_staff_page_is_a_chinese_400_page(
    api: Api,
) -> None:
    http = api.client
    await sign_in(http, "reviewer-mz")
    for query in ("page=99999999999999999999", f"page={2**62}", "page=-1"):
        resp = await http.get(f"/staff/queue?{query}")
        assert resp.status == 400, query
        assert "参数 page 须为 1 到 100000 之间的整数" in await resp.text()
    assert (await http.get("/staff/queue?page=2")).status == 200


async def test_a_link_whose_expiry_is_a_superscript_digit_is_refused_as_forged(api: Api) -> None:
    resp = await api.client.get("/files/cases/BC1/photo.jpg?exp=%C2%B2&sig=00")
    assert resp.status == 403
    assert "链接无效或已过期" in await resp.text()


@pytest.mark.parametrize(
    ("raw", "ok"),
    [("1", True), ("100", True), ("0", False), ("101", False), ("-0", False), ("+5", False),
     (" 5", False), ("5 ", False), ("²", False), ("٣", False), ("1_0", False), ("", False),
     ("9" * 5_000, False)],
)  # fmt: skip
def test_bounded_ints_are_ascii_digits_within_their_bounds(raw: str, ok: bool) -> None:
    if ok:
        assert bounded_int(raw, "n", low=1, high=100) == int(raw)
    else:
        with pytest.raises(Exception, match="参数 n 须为 1 到 100 之间的整数"):
            bounded_int(raw, "n", low=1, high=100)


def test_json_as_deep_as_allowed_parses_and_one_deeper_does_not() -> None:
    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    assert load_json(nested(MAX_JSON_DEPTH).encode()) is not None
    with pytest.raises(BadRequest):
        load_json(nested(MAX_JSON_DEPTH + 1).encode())
    body: Any = load_json(b'{"a": [1, 2.5, -9223372036854775808, {"b": null}]}')
    assert body == {"a": [1, 2.5, -(2**63), {"b": None}]}
    with pytest.raises(BadRequest):
        load_json(str(2**63).encode())
