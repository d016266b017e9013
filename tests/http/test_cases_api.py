"""The /api/v1 journey and its refusals, through the real app factory and SQLite store."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime, timedelta

import pillow_heif
from jose import jwt
from PIL import Image

from app import keys
from tests.http.conftest import PNG, Api, fill_and_submit, open_case


async def reviewer_for(api: Api, case: dict) -> str:
    return f"reviewer-{case['department']}"


async def test_an_applicant_browses_the_catalog_and_reads_a_guide(api: Api) -> None:
    status, body = await api.call("GET", "/matters")
    assert status == 200
    assert len(body["items"]) >= 6
    assert len({m["department"] for m in body["items"]}) >= 4
    code = body["items"][0]["code"]
    status, matter = await api.call("GET", f"/matters/{code}")
    assert status == 200
    assert matter["materials"] and matter["legal_basis"]
    assert matter["name"] in matter["guide"]


async def test_the_whole_review_journey_with_one_correction(api: Api) -> None:
    case = await open_case(api)
    assert case["state"] == "draft"
    case = await fill_and_submit(api, case)
    assert case["state"] == "submitted"
    assert case["clock"]["limit_days"] >= 0
    number = case["number"]
    reviewer = await reviewer_for(api, case)

    status, queue = await api.call("GET", "/cases", reviewer)
    assert status == 200
    assert number in [c["number"] for c in queue["items"]]

    slot = case["materials"][0]["slot_id"]
    status, returned = await api.call(
        "POST",
        f"/cases/{number}/return",
        reviewer,
        json={
            "version": case["version"],
            "corrections": [
                {"slot_id": slot, "defects": ["blurry"], "remark": "请在光线充足处重拍"}
            ],
        },
    )
    assert status == 200, returned
    assert returned["state"] == "returned"
    assert returned["clock"] is None  # the applicant's turn: no limit runs on the office

    status, seen = await api.call("GET", f"/cases/{number}", "demo-citizen")
    notice = seen["notices"][0]["text"]
    assert "照片模糊" in notice and "请在光线充足处重拍" in notice

    status, case = await api.call(
        "PUT", f"/cases/{number}/materials/{slot}", "demo-citizen", data=PNG
    )
    assert status == 200
    status, case = await api.call("POST", f"/cases/{number}/submit", "demo-citizen", json={})
    assert case["state"] == "resubmitted"
    assert case["clock"]["period"] == "acceptance" and case["clock"]["limit_days"] == 5
    status, case = await api.call(
        "POST", f"/cases/{number}/accept", reviewer, json={"version": case["version"]}
    )
    assert status == 200, case
    assert case["state"] == "accepted" and case["accepted_on"]
    assert case["clock"]["period"] == "decision"
    limit = case["clock"]["limit_days"]
    status, case = await api.call(
        "POST",
        f"/cases/{number}/extend",
        reviewer,
        json={"approved_by": "局长 王某", "reason": "需要现场核查", "version": case["version"]},
    )
    assert status == 200, case
    assert case["clock"]["limit_days"] == limit + 10 and case["extension"]["approved_by"]
    status, again = await api.call(
        "POST", f"/cases/{number}/extend", reviewer, json={"approved_by": "x", "reason": "y"}
    )
    assert status == 409 and "只能延长一次" in again["error"]["message"]
    status, case = await api.call(
        "POST", f"/cases/{number}/approve", reviewer, json={"version": case["version"]}
    )
    assert status == 200, case
    assert case["state"] in {"approved", "awaiting_payment", "awaiting_pickup"}

    status, history = await api.call("GET", f"/cases/{number}/history", "demo-citizen")
    actions = [e["action"] for e in history["items"]]
    assert actions[0] == "create"
    assert {"submit", "return_for_correction", "resubmit", "accept", "extend", "approve"} <= set(
        actions
    )
    assert [e["seq"] for e in history["items"]] == sorted(e["seq"] for e in history["items"])


async def test_every_state_change_queues_a_chat_notice_in_the_same_transaction(api: Api) -> None:
    case = await fill_and_submit(api, await open_case(api))
    assert case["state"] == "submitted"
    queued = await api.client.app[keys.DOCUMENTS].find("outbox", {"payload.case": case["number"]})
    # Every photo queues its pre-check; of the state changes only the submission is news.
    attached = [m["slot_id"] for m in case["materials"] if m["attached"]]
    jobs = sorted(m["payload"]["slot"] for m in queued if m["topic"] == "ocr.precheck")
    assert jobs == sorted(attached)
    notices = [m["payload"] for m in queued if m["topic"] == "notify.applicant"]
    changes = [n for n in notices if "【材料预审】" not in n["text"]]
    assert [n["state"] for n in changes] == ["submitted"]


async def test_another_applicants_case_answers_404(api: Api) -> None:
    case = await open_case(api)
    status, body = await api.call("GET", f"/cases/{case['number']}", "demo-agent")
    assert status == 404
    assert body["error"]["code"] == "not_found"
    status, _ = await api.call("GET", f"/cases/{case['number']}/history", "demo-agent")
    assert status == 404


async def test_unknown_matter_is_404_and_creates_nothing(api: Api) -> None:
    before = await api.count("cases")
    status, body = await api.call("POST", "/cases", "demo-citizen", json={"matter_code": "NO-SUCH"})
    assert status == 404
    assert set(body["error"]) == {"code", "message"}
    assert await api.count("cases") == before
    status, _ = await api.call("GET", "/matters/NO-SUCH")
    assert status == 404


async def test_malformed_json_is_400_and_creates_nothing(api: Api) -> None:
    before = await api.count("cases")
    status, body = await api.call(
        "POST",
        "/cases",
        "demo-citizen",
        data=b'{"matter_code": ',
        headers={"Content-Type": "application/json"},
    )
    assert status == 400
    assert body["error"]["code"] == "malformed_json"
    assert await api.count("cases") == before


async def test_a_stale_version_is_409_and_overwrites_nothing(api: Api) -> None:
    case = await fill_and_submit(api, await open_case(api))
    reviewer = await reviewer_for(api, case)
    stale = case["version"] - 1
    status, body = await api.call(
        "POST", f"/cases/{case['number']}/approve", reviewer, json={"version": stale}
    )
    assert status == 409
    assert body["error"]["code"] == "stale_version"
    _, now = await api.call("GET", f"/cases/{case['number']}", "demo-citizen")
    assert now["state"] == "submitted" and now["version"] == case["version"]


async def test_an_illegal_transition_is_409_and_changes_nothing(api: Api) -> None:
    case = await open_case(api)
    reviewer = await reviewer_for(api, case)
    status, body = await api.call("POST", f"/cases/{case['number']}/approve", reviewer, json={})
    assert status == 409
    assert body["error"]["code"] == "invalid_transition"
    _, now = await api.call("GET", f"/cases/{case['number']}", "demo-citizen")
    assert now["state"] == "draft" and now["version"] == case["version"]


async def test_wrong_role_is_403_and_changes_nothing(api: Api) -> None:
    case = await fill_and_submit(api, await open_case(api))
    status, body = await api.call(
        "POST", f"/cases/{case['number']}/approve", "demo-citizen", json={}
    )
    assert status == 403
    assert body["error"]["code"] == "forbidden"
    _, now = await api.call("GET", f"/cases/{case['number']}", "demo-citizen")
    assert now["state"] == "submitted"


async def test_a_json_body_over_the_limit_is_413_and_creates_nothing(api: Api) -> None:
    before = await api.count("cases")
    huge = json.dumps({"matter_code": "x" * (2 * 1024 * 1024)})
    status, body = await api.call(
        "POST", "/cases", "demo-citizen", data=huge, headers={"Content-Type": "application/json"}
    )
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    assert await api.count("cases") == before


async def test_an_upload_that_is_not_a_photo_is_refused_and_stores_nothing(api: Api) -> None:
    case = await open_case(api)
    slot = case["materials"][0]["slot_id"]
    status, body = await api.call(
        "PUT",
        f"/cases/{case['number']}/materials/{slot}",
        "demo-citizen",
        data=b"#!/bin/sh\nrm -rf /\n",
    )
    assert status == 422
    assert "JPG" in body["error"]["message"]
    _, now = await api.call("GET", f"/cases/{case['number']}", "demo-citizen")
    assert not any(m["attached"] for m in now["materials"])


def _none_token(sub: str) -> str:
    def b64(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    exp = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': sub, 'role': 'admin', 'exp': exp})}."


async def test_missing_expired_forged_and_alg_none_tokens_are_401_and_change_nothing(
    api: Api,
) -> None:
    before = await api.count("cases")
    now = datetime.now(UTC)
    claims = {
        "sub": "demo-citizen",
        "role": "applicant",
        "iss": "buchumen",
        "iat": int(now.timestamp()),
    }
    expired = jwt.encode(
        claims | {"exp": int((now - timedelta(minutes=1)).timestamp())},
        api.client.app[keys.SETTINGS].jwt_key,
    )
    forged = jwt.encode(
        claims | {"exp": int((now + timedelta(hours=1)).timestamp())},
        "an-attacker-secret-that-is-long-enough-1234",
    )
    for token in (None, expired, forged, _none_token("demo-citizen"), "not.a.jwt"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        resp = await api.client.post("/api/v1/cases", json={"matter_code": "x"}, headers=headers)
        body = await resp.json()
        assert resp.status == 401, token
        assert body["error"]["code"] == "unauthorized"
    assert await api.count("cases") == before


async def test_health_and_readiness_report_the_store(api: Api) -> None:
    resp = await api.client.get("/healthz")
    assert resp.status == 200
    resp = await api.client.get("/readyz")
    body = await resp.json()
    assert resp.status == 200 and body["checks"] == {"documents": "ok", "objects": "ok"}


async def test_unknown_paths_answer_json_errors(api: Api) -> None:
    status, body = await api.call("GET", "/no/such/path")
    assert status == 404
    assert body["error"]["code"] == "not_found"


async def test_a_non_numeric_page_or_version_is_400_and_stores_nothing(api: Api) -> None:
    status, body = await api.call("GET", "/cases?page=abc", "demo-citizen")
    assert status == 400 and body["error"]["code"] == "invalid_query"
    case = await open_case(api)
    slot = case["materials"][0]["slot_id"]
    status, body = await api.call(
        "PUT", f"/cases/{case['number']}/materials/{slot}?version=x", "demo-citizen", data=PNG
    )
    assert status == 400
    _, now = await api.call("GET", f"/cases/{case['number']}", "demo-citizen")
    assert not any(m["attached"] for m in now["materials"])


async def test_an_iphone_heic_photo_is_accepted_like_the_pre_check_accepts_it(api: Api) -> None:
    case = await open_case(api)
    slot = case["materials"][0]["slot_id"]
    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (64, 48), (200, 190, 170))).save(out)
    heic = out.getvalue()[:8] + b"hevc" + out.getvalue()[12:]  # the "hevc" brand iPhones write
    status, body = await api.call(
        "PUT", f"/cases/{case['number']}/materials/{slot}", "demo-citizen", data=heic
    )
    assert status == 200, body
    assert body["materials"][0]["content_type"] == "image/heic"
