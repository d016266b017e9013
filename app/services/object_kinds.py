"""Every kind of stored object, by key prefix, and every place a document names an object key.

The one list to update when code starts writing a new kind of object or keeping its key in a
new place: the sweep of unreferenced objects (``object_sweep``) deletes an old object only when
its prefix is a kind here and none of the ``HOLDERS`` names it, and a test fails when code
writes under a prefix that is not here.

References cross kinds (a space copy reused as a case's material names a ``space/uploads/``
key in ``cases``; a case's photo kept in the space names a ``cases/`` key in
``space_documents``), so the sweep keeps a key that any holder names, whatever its kind;
``held_by`` says where each kind's references are expected, for the reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.services.audit import AUDIT
from app.services.case_records import CASES, PRECHECKS
from app.services.certificates import CERTIFICATES
from app.services.mandate_records import ENTERPRISES, MANDATES
from app.services.space_records import SPACE
from storage.documents import Document, Filter
from storage.outbox import DONE, OUTBOX


@dataclass(frozen=True)
class Holder:
    """Documents that name object keys: which (``collection``, ``where``), and how (``keys``)."""

    name: str
    collection: str
    keys: Callable[[Document], Iterable[str]]
    where: Filter | None = None


@dataclass(frozen=True)
class Kind:
    """Objects under ``prefix``: who writes them, where their keys are kept, whether to keep
    them regardless (``keep``: nothing refers to them by document)."""

    prefix: str
    written_by: str
    held_by: tuple[Holder, ...]
    keep: bool = False


def _strings(*values: Any) -> Iterator[str]:
    return (v for v in values if isinstance(v, str) and v)


def _in_job(doc: Document) -> Iterator[str]:
    """Any key a job's payload holds, under any name, however deep (texts are not kept)."""
    todo: list[Any] = [doc.get("payload")]
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
        elif isinstance(value, str) and kind_of(value) is not None:
            yield value


def _materials(doc: Document) -> Iterator[str]:
    materials = doc.get("materials") or {}
    return _strings(*(m.get("object_key") for m in materials.values() if isinstance(m, dict)))


def _versions(doc: Document) -> Iterator[str]:
    versions = doc.get("versions") or []
    return _strings(*(v.get("object_key") for v in versions if isinstance(v, dict)))


def _evidence(doc: Document) -> Iterator[str]:
    evidence = doc.get("evidence") or {}
    return _strings(evidence.get("id_card"), evidence.get("proof"))


def _licence_of(doc: Document) -> Iterator[str]:
    how = doc.get("established_by")
    return _strings(how.removeprefix("licence:") if isinstance(how, str) else None)


def _licence_claimed(doc: Document) -> Iterator[str]:
    return _strings((doc.get("detail") or {}).get("licence"))


def _object_key(doc: Document) -> Iterator[str]:
    return _strings(doc.get("object_key"))


# In the order references move: a job's key reaches where its job puts it before the job is
# marked done, so a key moving while the sweep reads is found in one place or the other.
JOBS = Holder("outbox jobs not done (a dead one may be sent back)", OUTBOX, _in_job,
              where={"status": {"$ne": DONE}})  # fmt: skip
VERDICTS = Holder("pre-check verdicts", PRECHECKS, _object_key)
MATERIALS = Holder("case materials", CASES, _materials)
VERSIONS = Holder("personal space versions, of deleted documents too until purged", SPACE,
                  _versions)  # fmt: skip
ISSUED = Holder("certificates", CERTIFICATES, _object_key)
EVIDENCE = Holder("proxy requests' evidence", MANDATES, _evidence)
FOUNDED = Holder("enterprises a licence proved the legal representative of", ENTERPRISES,
                 _licence_of)  # fmt: skip
CLAIMED = Holder("audit records of licence claims", AUDIT, _licence_claimed,
                 where={"action": "enterprise.claimed"})  # fmt: skip
HOLDERS = (JOBS, VERDICTS, MATERIALS, VERSIONS, ISSUED, EVIDENCE, FOUNDED, CLAIMED)

KINDS = (
    Kind("cases/", "MaterialService.upload: a case's material, uploaded or sent in the chat",
         (JOBS, VERDICTS, MATERIALS, VERSIONS)),
    Kind("space/uploads/", "SpaceService.upload: a photo sent straight to the personal space",
         (JOBS, VERSIONS, MATERIALS, VERDICTS)),
    Kind("certificates/", "CertificateService.issue: an electronic certificate",
         (ISSUED, VERSIONS, MATERIALS, VERDICTS, JOBS)),
    Kind("enterprise/claims/", "MandateService.claim: a business licence photo",
         (JOBS, FOUNDED, CLAIMED)),
    Kind("mandates/evidence/", "ProxyService.keep_photo: a principal's ID card or proof",
         (JOBS, EVIDENCE)),
    Kind("bench/", "buchumen bench upload: scratch objects it deletes when done", ()),
    Kind("system/", "storage.pairing: the mark pairing the two stores, in no document", (),
         keep=True),
)  # fmt: skip


def kind_of(key: str) -> Kind | None:
    """The kind a key (or a prefix of keys) belongs to, None when no kind claims it."""
    return next((kind for kind in KINDS if key.startswith(kind.prefix)), None)
