"""The OpenAPI 3.1 document of /api/v1, built from the route table and the pydantic bodies."""

from __future__ import annotations

from typing import Any

from app.api.schemas import BODIES

# (method, path, summary, body model name or None, auth required, success status)
ENDPOINTS: list[tuple[str, str, str, str | None, bool, int]] = [
    ("get", "/matters", "List the matter catalog (filter: department, target)", None, False, 200),
    ("get", "/matters/{code}", "A matter's full service guide (GB/T 36114)", None, False, 200),
    (
        "get",
        "/defects",
        "Defect codes a reviewer may cite in a correction notice",
        None,
        False,
        200,
    ),
    ("post", "/cases", "Open a case (draft) for a matter", "CreateCase", True, 201),
    (
        "get",
        "/cases",
        "My cases, or a reviewer's queue (state, matter, page, size)",
        None,
        True,
        200,
    ),
    (
        "get",
        "/cases/{number}",
        "One case with its checklist and working-day clock",
        None,
        True,
        200,
    ),
    ("get", "/cases/{number}/history", "The case's audit trail", None, True, 200),
    ("put", "/cases/{number}/materials/{slot}", "Upload a photo or PDF to a slot", None, True, 200),
    (
        "get",
        "/cases/{number}/materials/{slot}/link",
        "A five-minute link to the material's file (every look is recorded)",
        None,
        True,
        200,
    ),
    (
        "get",
        "/cases/{number}/payments",
        "The case's fee items (with legal basis), payment attempts and ledger",
        None,
        True,
        200,
    ),
    (
        "post",
        "/cases/{number}/payments",
        "Start paying the catalog fee: a cashier URL valid for 30 minutes",
        None,
        True,
        201,
    ),
    (
        "post",
        "/cases/{number}/submit",
        "Submit (or resubmit after correction)",
        "Versioned",
        True,
        200,
    ),
    (
        "post",
        "/cases/{number}/return",
        "Return with one correction notice",
        "ReturnBody",
        True,
        200,
    ),
    ("post", "/cases/{number}/approve", "Approve the pre-review", "Versioned", True, 200),
    (
        "post",
        "/cases/{number}/reject",
        "Refuse, with reason and legal basis",
        "RejectBody",
        True,
        200,
    ),
    (
        "post",
        "/cases/{number}/actions/{action}",
        "Take a lifecycle action",
        "ActionBody",
        True,
        200,
    ),
    ("get", "/calendar/overrides", "Working-day calendar overrides (year)", None, True, 200),
    (
        "put",
        "/calendar/overrides/{day}",
        "Set a day as working or not (admin)",
        "CalendarOverride",
        True,
        200,
    ),
]

ERRORS = {
    400: "Malformed JSON or query",
    401: "Missing, expired or forged token",
    403: "Your role may not do this",
    404: "No such matter or case (or not yours)",
    409: "Illegal transition or stale version",
    413: "Body over the size limit",
    422: "A field breaks a rule",
}


def _operation_id(method: str, path: str) -> str:
    return method + "_" + "_".join(p.strip("{}") for p in path.strip("/").split("/"))


def build_openapi(version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        }
    }
    for model in BODIES:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    paths: dict[str, Any] = {}
    for method, path, summary, body, auth, ok in ENDPOINTS:
        op: dict[str, Any] = {
            "summary": summary,
            "operationId": _operation_id(method, path),
            "responses": {str(ok): {"description": "OK"}}
            | {
                str(code): {
                    "description": text,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                for code, text in ERRORS.items()
            },
        }
        params = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
        if params:
            op["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                for p in params
            ]
        if body:
            op["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}
                },
            }
        elif method == "put" and "materials" in path:
            op["requestBody"] = {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        if auth:
            op["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "buchumen 不出门办 API", "version": version},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
