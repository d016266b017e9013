"""The API documents itself: every route is in the OpenAPI document and on the docs page."""

from __future__ import annotations

from app.api.handlers import routes
from app.api.openapi import ENDPOINTS
from tests.http.conftest import Api


def test_every_api_route_is_documented_and_every_documented_route_exists() -> None:
    served = {(r.method.lower(), r.path) for r in routes if hasattr(r, "path")}
    documented = {(m, p) for m, p, *_ in ENDPOINTS}
    assert served == documented


async def test_openapi_document_is_served_and_valid_shape(api: Api) -> None:
    status, spec = await api.call("GET", "/openapi.json")
    assert status == 200
    assert spec["openapi"].startswith("3.1")
    assert "/cases/{number}/return" in spec["paths"]
    ref = spec["paths"]["/cases/{number}/return"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    assert ref.split("/")[-1] in spec["components"]["schemas"]


async def test_docs_page_lists_the_endpoints_in_chinese(api: Api) -> None:
    resp = await api.client.get("/api/v1/docs")
    html = await resp.text()
    assert resp.status == 200
    assert "接口文档" in html and "/cases/{number}/submit" in html
    assert 'name="viewport"' in html


async def test_staff_read_every_summary_and_error_in_chinese(api: Api) -> None:
    _, spec = await api.call("GET", "/openapi.json")
    for ops in spec["paths"].values():
        for op in ops.values():
            assert any("\u4e00" <= ch <= "\u9fff" for ch in op["summary"]), op["summary"]
            for answer in op["responses"].values():
                text = answer["description"]
                assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text

