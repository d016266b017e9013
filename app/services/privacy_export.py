"""A person's copy of what we hold about them (PIPL Art. 45): gathered, then zipped with files.

``gather`` reads one person's records: their account (their own ID number in full), consent,
their own cases with events and materials, their space documents with every version, their
authorisations, bookings and the access log (who looked at them, their documents and cases,
when and why). Cases they handled for someone else, or for an enterprise, are listed without
their contents: those belong to the other person or to the enterprise. ``pack`` writes it as a
ZIP into a seekable file, one object chunk at a time, never holding the files in memory.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from app.domain.actors import person
from app.domain.case_states import LABELS_ZH, State
from app.domain.cases import CHINA
from app.domain.errors import ValidationFailed
from app.domain.identity import mask_id_number
from app.services.accounts import USERS
from app.services.appointment_records import BOOKINGS
from app.services.audit import AUDIT
from app.services.case_records import CASES, EVENTS, PRECHECKS
from app.services.certificates import CERTIFICATES
from app.services.follow_ups import FOLLOW_UPS
from app.services.mandate_records import ENTERPRISES, MANDATES
from app.services.payment_records import ORDERS
from app.services.shipment_records import SHIPMENTS
from app.services.space_records import SPACE
from storage.documents import Document, DocumentStore
from storage.objects import ObjectNotFound, ObjectStore

CAP = 500 * 1024 * 1024  # what one download may carry; more is asked for at the counter
TOO_LARGE = (
    "您的数据超过 500 MB，无法在线打包下载。请拨打政务服务热线 12345，"
    "我们将以其他方式向您提供完整副本。"
)
# What each case brings along, by the field naming the case.
BESIDE_CASE = (
    ("events", EVENTS, "case_number"),
    ("prechecks", PRECHECKS, "case"),
    ("payments", ORDERS, "case"),
    ("shipments", SHIPMENTS, "case"),
    ("certificates", CERTIFICATES, "case"),
    ("follow_ups", FOLLOW_UPS, "case"),
)
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}
CHUNK = 200  # subjects or case numbers asked for in one ``$in``
README = """不出门办 · 个人信息副本

data.json：我们保存的关于您的全部信息（UTF-8 编码的 JSON），包括：
  account          账号与实名信息（含您本人的完整身份证号码，请妥善保管）
  consent          您同意的《个人信息处理告知》版本与时间
  cases            您本人的办件，含办理记录、材料清单、预审结果、缴费、寄递、电子证照
  cases_for_others 您代他人或为企业经办的办件（仅列出办件号与状态，内容属于对方）
  space_documents  个人空间中的证照及其各个版本（含已删除、尚在保存期内的）
  mandates         您申请或授予的代办授权
  bookings         大厅预约
  access_log       查看记录：谁、在何时、因何查看了您的信息、证照或办件
  files            压缩包中每个文件的位置
办件材料/   您在各办件中提交的材料原件
个人空间/   个人空间中保存的证照（每个版本一个文件）
"""


@dataclass
class Export:
    """What ``gather`` found: the data for data.json, and the objects to copy into the ZIP."""

    data: dict[str, Any]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # object key -> entry

    def file(self, key: str, path: str, content_type: str, size: int, sha256: str) -> str:
        """The path an object is copied to; an object reached twice is copied once."""
        if key not in self.files:
            taken = {f["path"] for f in self.files.values()}
            stem, ext = path, EXTENSIONS.get(content_type, ".bin")
            n = 1
            while (path := stem + ("" if n == 1 else f"-{n}") + ext) in taken:
                n += 1
            entry = {"path": path, "content_type": content_type, "size": size, "sha256": sha256}
            self.files[key] = entry
        return str(self.files[key]["path"])


def _plain(doc: Document) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "_version"}


def _safe(name: str) -> str:
    """A name usable as a folder or file name in any unzip tool."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", name).strip(" .") or "文件"


async def _find_in(
    store: DocumentStore, collection: str, field_name: str, values: Iterable[str]
) -> list[Document]:
    values = sorted(set(values))
    found: list[Document] = []
    for start in range(0, len(values), CHUNK):
        where = {field_name: {"$in": values[start : start + CHUNK]}}
        found += await store.find(collection, where)
    return found


async def gather(store: DocumentStore, person_id: str, now: datetime) -> Export:
    """Everything held about ``person_id``, and nothing of anyone else's account."""
    me = person(person_id)
    account = _plain(await store.get(USERS, person_id) or {"_id": person_id})
    export = Export({"exported_at": now.isoformat(), "account": account})
    export.data["consent"] = account.get("consent")
    export.data["space_opt_in"] = account.get("space_opt_in")
    represented = await store.find(ENTERPRISES, {"legal_rep": person_id})
    export.data["enterprises_represented"] = [
        {"uscc": e["_id"], "name": e.get("name"), "since": e.get("at")} for e in represented
    ]
    mine = await store.find(CASES, {"applicant_id": person_id}, sort=[("created_at", 1)])
    handled = await store.find(CASES, {"handler_id": person_id}, sort=[("created_at", 1)])
    own = [c for c in mine if not c.get("enterprise_uscc")]
    others = [c for c in mine if c.get("enterprise_uscc")] + handled
    export.data["cases"] = await _cases(store, export, own)
    export.data["cases_for_others"] = [
        {
            "number": c["_id"],
            "matter": c["terms"]["name"],
            "state": LABELS_ZH[State(c["state"])],
            "created_at": c["created_at"],
            "role": "企业经办人" if c.get("enterprise_uscc") else "代办人",
            "enterprise_uscc": c.get("enterprise_uscc"),
        }
        for c in others
    ]
    docs = await store.find(SPACE, {"owner": me}, sort=[("created_at", 1)])
    export.data["space_documents"] = [_space_doc(export, d) for d in docs]
    mandates = await store.find(MANDATES, {"agent": person_id})
    mandates += await store.find(MANDATES, {"principal": me})
    export.data["mandates"] = [
        _mandate(m, as_agent=m["agent"] == person_id)
        for m in sorted(mandates, key=lambda m: str(m["requested_at"]))
    ]
    bookings = await store.find(BOOKINGS, {"person": person_id}, sort=[("created_at", 1)])
    export.data["bookings"] = [_plain(b) for b in bookings]
    subjects = [me, f"user:{person_id}"]
    subjects += [f"case:{c['_id']}" for c in own] + [f"follow_up:{c['_id']}" for c in own]
    subjects += [f"space:{d['_id']}" for d in docs]
    log = await _find_in(store, AUDIT, "subject", subjects)
    export.data["access_log"] = [_plain(r) for r in sorted(log, key=lambda r: str(r["at"]))]
    export.data["files"] = list(export.files.values())
    return export


async def _cases(store: DocumentStore, export: Export, own: list[Document]) -> list[Any]:
    numbers = [c["_id"] for c in own]
    beside: dict[str, dict[str, list[Any]]] = {n: {} for n in numbers}
    for name, collection, field_name in BESIDE_CASE:
        for doc in await _find_in(store, collection, field_name, numbers):
            beside[doc[field_name]].setdefault(name, []).append(_plain(doc))
    cases = []
    for c in own:
        number = c["_id"]
        names = {s["id"]: s["name"] for s in c["terms"]["slots"]}
        files = []
        for slot_id, ref in c["materials"].items():
            name = names.get(slot_id, slot_id)
            path = export.file(
                ref["object_key"], f"办件材料/{number}/{_safe(name)}",
                ref["content_type"], ref["size"], ref["sha256"],
            )  # fmt: skip
            files.append({"slot": slot_id, "name": name, "source": ref["source"], "file": path})
        events = sorted(beside[number].pop("events", []), key=lambda e: e["seq"])
        case = _plain(c) | {"state_zh": LABELS_ZH[State(c["state"])], "events": events}
        cases.append(case | beside[number] | {"materials_list": files})
    return cases


def _space_doc(export: Export, d: Document) -> dict[str, Any]:
    folder = "个人空间（已删除）" if d.get("deleted_at") else "个人空间"
    title = f"{folder}/{_safe(d['title'])}-{d['_id'][:6]}"
    versions = []
    for v in d["versions"]:
        path = f"{title}/第{v['n']}版"
        versions.append(
            v
            | {
                "file": export.file(
                    v["object_key"], path, v["content_type"], v["size"], v["sha256"]
                )
            }
        )
    return _plain(d) | {"versions": versions}


async def pack(export: Export, objects: ObjectStore, out: IO[bytes], now: datetime) -> int:
    """Write the ZIP into ``out`` (seekable); the number of files copied.

    Objects already removed (a deleted document past its retention) are marked missing in
    data.json. Over ``CAP``, ValidationFailed before or while copying: nothing is sent.
    """
    total = 0
    for key, entry in export.files.items():
        try:
            entry["size"] = (await objects.stat(key)).size
        except ObjectNotFound:
            entry["missing"] = "已按保存期限删除"
            continue
        total += entry["size"]
    if total > CAP:
        raise ValidationFailed(TOO_LARGE)
    stamp = now.astimezone(CHINA).timetuple()[:6]
    data = json.dumps(export.data, ensure_ascii=False, indent=2, default=str).encode()
    copied = 0
    with zipfile.ZipFile(out, "w") as zf:
        for name, body in (("说明.txt", README.encode("utf-8-sig")), ("data.json", data)):
            info = zipfile.ZipInfo(name, stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, body)
        written = len(data)
        for key, entry in export.files.items():
            if "missing" in entry:
                continue
            info = zipfile.ZipInfo(entry["path"], stamp)  # photos are compressed already
            with zf.open(info, "w") as sink:
                try:
                    async for chunk in objects.get(key):
                        written += len(chunk)
                        if written > CAP:
                            raise ValidationFailed(TOO_LARGE)
                        sink.write(chunk)
                except ObjectNotFound:
                    continue  # purged since it was counted: an empty entry, listed in data.json
            copied += 1
    return copied


def _mandate(doc: Document, *, as_agent: bool) -> dict[str, Any]:
    """An authorisation as its agent or principal may have it: the agent is not the subject of
    the evidence they brought, so the principal's number is masked in theirs."""
    out = _plain(doc) | {"my_role": "被授权人" if as_agent else "授权人"}
    if as_agent and out.get("evidence"):
        out["evidence"] = out["evidence"] | {
            "id_number": mask_id_number(str(out["evidence"]["id_number"]))
        }
    return out
