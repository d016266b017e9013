"""Mapping between space documents and their stored records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.space import SpaceDocument, Version

SPACE = "space_documents"


def doc_to_record(doc: SpaceDocument) -> dict[str, Any]:
    """The stored form; owner, kind, identifier and deleted_at are what lookups filter on."""
    return {
        "_id": doc.id,
        "owner": doc.owner,
        "kind": doc.kind,
        "title": doc.title,
        "identifier": doc.identifier,
        "created_at": doc.created_at.isoformat(),
        "updated_at": doc.current.added_at.isoformat(),
        "valid_to": doc.current.valid_to.isoformat() if doc.current.valid_to else None,
        "deleted_at": doc.deleted_at.isoformat() if doc.deleted_at else None,
        "pins": dict(doc.pins),
        "versions": [
            {
                "n": v.n,
                "object_key": v.object_key,
                "content_type": v.content_type,
                "size": v.size,
                "sha256": v.sha256,
                "source": v.source,
                "added_at": v.added_at.isoformat(),
                "fields": dict(v.fields),
            }
            for v in doc.versions
        ],
    }


def doc_from_record(record: dict[str, Any]) -> SpaceDocument:
    return SpaceDocument(
        id=record["_id"],
        owner=record["owner"],
        kind=record["kind"],
        title=record["title"],
        identifier=record["identifier"],
        created_at=datetime.fromisoformat(record["created_at"]),
        deleted_at=datetime.fromisoformat(d) if (d := record["deleted_at"]) else None,
        pins=dict(record["pins"]),
        versions=[
            Version(**(v | {"added_at": datetime.fromisoformat(v["added_at"])}))
            for v in record["versions"]
        ],
        version=record["_version"],
    )
