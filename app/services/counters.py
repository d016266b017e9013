"""Department counters: where originals arrive by courier and certificates leave from."""

from __future__ import annotations

from app.domain.shipments import Counter, MailingAddress
from app.services.catalog import check_department
from app.services.shipment_records import COUNTERS, counter_from_doc, counter_to_doc
from storage.documents import DocumentStore, DuplicateKey


async def counter_of(store: DocumentStore, department: str) -> Counter | None:
    doc = await store.get(COUNTERS, department)
    return counter_from_doc(doc) if doc else None


# The demo catalog's departments sit in Fuzhou (region 350100); these counters are fictional.
DEMO_COUNTER_PLACES = {
    "mz": ("市民政局政务服务窗口", "鼓楼区", "华林路 88 号民政服务中心一楼"),
    "jtys": ("市交通运输局政务服务窗口", "晋安区", "福新东路 268 号交通综合楼一楼"),
    "scjg": ("市市场监督管理局登记窗口", "台江区", "江滨中大道 363 号一楼"),
    "ga": ("市公安局出入境与户政窗口", "鼓楼区", "华林路 107 号办证大厅"),
    "rs": ("市人力资源和社会保障局窗口", "仓山区", "南江滨西大道 198 号社保大厅"),
}


def demo_counters(departments: list[str]) -> list[Counter]:
    counters = []
    for n, department in enumerate(departments):
        name, district, detail = DEMO_COUNTER_PLACES.get(
            department, (f"{department} 政务服务窗口", "鼓楼区", "五四路 1 号政务服务中心")
        )
        mobile = f"1385910{n:04d}"
        counters.append(Counter(department, name, mobile, "福建省", "福州市", district, detail))
    return counters


async def seed_counters(store: DocumentStore, counters: list[Counter]) -> None:
    """Add the counters not there yet (an administrator's own settings are kept)."""
    for counter in counters:
        try:
            async with store.transaction() as tx:
                await tx.insert(COUNTERS, counter_to_doc(counter))
        except DuplicateKey:
            continue


async def set_counter(store: DocumentStore, department: str, address: MailingAddress) -> Counter:
    """Where a department receives originals and sends certificates from (administrators)."""
    await check_department(store, department)
    counter = Counter(department, *(getattr(address, k) for k in address.as_dict()))
    doc = counter_to_doc(counter)
    existing = await store.get(COUNTERS, department)
    async with store.transaction() as tx:
        if existing is None:
            await tx.insert(COUNTERS, doc)
        else:
            await tx.replace(COUNTERS, doc, expected_version=existing["_version"])
    return counter


async def list_counters(store: DocumentStore) -> list[Counter]:
    return [counter_from_doc(doc) for doc in await store.find(COUNTERS, sort=[("_id", 1)])]
