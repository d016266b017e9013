"""Whatever a stranger or a signed-in user sends, no route answers 5xx.

Hypothesis throws arbitrary path segments, query strings and bodies (JSON of any shape, deep
nesting, huge numbers, raw bytes, forms with and without the page's token) at every route of
the OpenAPI document and every page route, as nobody and as each kind of account. A bounded
number of examples keeps it to seconds; a failure prints the request that broke it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from yarl import URL

from app import keys
from app.services.accounts import actor_for
from app.services.sessions import Use
from app.settings import Settings
from app.web.session import SESSION
from tests.conftest import Clock
from tests.http.conftest import Api, open_case
from tests.http.test_staff_pages import sign_in, token_of

STAFF = ("reviewer-mz", "demo-supervisor", "demo-admin", "demo-courier", "demo-kiosk")
NEVER = ("/logout",)  # a fuzzed logout would end the sessions the other examples use
PARAM = re.compile(r"\{(\w+)\}")  # the route formatter: names only, no patterns
QUERY_NAMES = ["page", "size", "year", "version", "days", "state", "matter", "department",
               "target", "exp", "sig", "next", "case", "called", "none", "at", "done", "code",
               "reason", "out_trade_no", "openid", "signature", "timestamp", "nonce"]  # fmt: skip
NUMBERS = ["0", "-1", "1", "2", "99999999999999999999", str(2**62), str(2**63), "1e20", "²",
           "٣", "１", "NaN", "-0", "+1", " 1", "9" * 5000, "1.5", "0x10"]  # fmt: skip

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    ["matter_code", "enterprise", "version", "reason", "basis", "corrections", "workday",
     "note", "dismiss_findings", "slot_id", "defects", "remark"]
)  # fmt: skip


@dataclass
class Target:
    api: Api
    real: list[str]  # a real case number, slot ids, matter code: to get past the lookups
    cookies: dict[str, str]  # who -> Cookie header
    csrf: dict[str, str]  # who -> the form token their pages carry


def _routes(app: web.Application) -> list[tuple[str, str]]:
    """Every page route (method, path pattern) but the static files and the sign-outs."""
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path")
        if route.method == "HEAD" or not path or "prefix" in info:
            continue
        if isinstance(route.resource, web.StaticResource) or path.endswith(NEVER):
            continue
        found.append((route.method, str(route.resource.canonical)))
    return found


def _segment(real: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(real),
        st.sampled_from(NUMBERS),
        st.integers(-(2**70), 2**70).map(str),
        TEXT.filter(lambda t: t not in {"", ".", ".."}),
    )


def _query() -> st.SearchStrategy[dict[str, str]]:
    value = st.one_of(st.sampled_from(NUMBERS), st.integers().map(str), TEXT)
    return st.dictionaries(st.sampled_from(QUERY_NAMES) | TEXT, value, max_size=4)


def _json_body() -> st.SearchStrategy[bytes]:
    def deep(n: int) -> bytes:
        return ("[" * n + "]" * n).encode()

    objects = st.dictionaries(FIELDS | TEXT, JSON, max_size=5)
    return st.one_of(
        objects.map(lambda o: json.dumps(o).encode()),
        JSON.map(lambda o: json.dumps(o).encode()),
        st.integers(0, 5000).map(deep),
        st.sampled_from([b'{"version": ' + b"9" * 5000 + b"}", b"{", b"", b"\xff\xfe", b"NaN"]),
        st.binary(max_size=200),
    )


BOUNDARY = "b0undary"


def _multipart(form: dict[str, str]) -> st.SearchStrategy[bytes]:
    """A multipart body: the form's fields then a file, well formed or cut anywhere."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{quote(k)}"\r\n\r\n{v}\r\n'
        for k, v in form.items()
    ]
    head = "".join(parts).encode()
    photo = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    whole = st.binary(max_size=300).map(
        lambda data: head + photo + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return st.one_of(
        whole, whole.flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n])), st.binary()
    )


def _url(path: str, real: list[str], data: st.DataObject) -> str:
    def fill(match: re.Match[str]) -> str:
        return quote(data.draw(_segment(real), label=match.group(1)), safe="")

    query = data.draw(_query(), label="query")
    url = PARAM.sub(fill, path)
    return url + ("?" + urlencode(query, quote_via=quote) if query else "")


async def _send(client: TestClient, method: str, url: str, **kw: Any) -> aiohttp.ClientResponse:
    client.session.cookie_jar.clear()  # only the Cookie header chosen for this example counts
    return await client.request(method, URL(url, encoded=True), allow_redirects=False, **kw)


@pytest.fixture
async def target(api: Api, settings: Settings, clock: Clock) -> Target:
    case = await open_case(api)
    real = [case["number"], case["matter"]["code"], *[s["slot_id"] for s in case["materials"]]]
    http, app = api.client, api.client.app
    cookies, csrf = {"nobody": ""}, {"nobody": ""}
    citizen = await actor_for(app[keys.DOCUMENTS], "demo-citizen")
    applicant = app[keys.TOKENS].issue(citizen, use=Use.H5)  # an H5 page's session cookie
    cookies["applicant"] = f"{SESSION}={applicant}"
    page = await _send(http, "GET", "/h5/me", headers={"Cookie": cookies["applicant"]})
    csrf["applicant"] = token_of(await page.text())
    for username in STAFF:
        signed = await sign_in(http, username)
        assert signed.status == 303, username
        cookies[username] = "; ".join(f"{k}={v.value}" for k, v in signed.cookies.items())
        home = await _send(
            http, "GET", signed.headers["Location"], headers={"Cookie": cookies[username]}
        )
        found = re.search(r'name="csrf" value="([^"]+)"', await home.text())
        csrf[username] = found.group(1) if found else ""
    return Target(api, real, cookies, csrf)


CHECKS = settings(
    max_examples=250,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: the message says it
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@CHECKS
@given(data=st.data())
async def test_no_api_route_answers_5xx_whatever_it_is_sent(
    target: Target, data: st.DataObject
) -> None:
    spec = await (await target.api.client.get("/api/v1/openapi.json")).json()
    routes = sorted((m.upper(), p) for p, ops in spec["paths"].items() for m in ops)
    method, path = data.draw(st.sampled_from(routes), label="route")
    url = "/api/v1" + _url(path, target.real, data)
    who = data.draw(st.sampled_from([None, *target.api.tokens]), label="who")
    headers = target.api.headers(who) | {"Content-Type": "application/json"}
    body = data.draw(_json_body(), label="body") if method in {"POST", "PUT"} else None
    resp = await _send(target.api.client, method, url, data=body, headers=headers)
    assert resp.status < 500, f"{method} {url} as {who}: {resp.status} {await resp.text()}"
    if resp.status >= 400 and resp.content_type == "application/json":
        error = (await resp.json())["error"]
        assert error["code"] and error["message"]


@CHECKS
@given(data=st.data())
async def test_no_page_answers_5xx_whatever_it_is_sent(target: Target, data: st.DataObject) -> None:
    routes = _routes(target.api.client.app)
    method, path = data.draw(st.sampled_from(routes), label="route")
    url = _url(path, target.real, data)
    who = data.draw(st.sampled_from(sorted(target.cookies)), label="who")
    headers = {"Cookie": target.cookies[who]} if target.cookies[who] else {}
    body: Any = None
    if method == "POST":
        form = data.draw(st.dictionaries(st.sampled_from(QUERY_NAMES) | TEXT, TEXT, max_size=5))
        if data.draw(st.booleans(), label="with the page's token"):
            form["csrf"] = target.csrf[who]
        kind = data.draw(st.sampled_from(["form", "multipart", "bytes"]), label="body kind")
        if kind == "form":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form, quote_via=quote).encode()
        elif kind == "multipart":
            headers["Content-Type"] = f"multipart/form-data; boundary={BOUNDARY}"
            body = data.draw(_multipart(form), label="body")
        else:
            body = data.draw(_json_body(), label="body")
    resp = await _send(target.api.client, method, url, data=body, headers=headers)
    assert resp.status < 500, f"{method} {url} as {who}: {resp.status} {await resp.text()}"
