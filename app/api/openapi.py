"""The OpenAPI 3.1 document of /api/v1, built from the route table and the pydantic bodies."""

from __future__ import annotations

from typing import Any

from app.api.schemas import BODIES

# (method, path, summary, body model name or None, auth required, success status)
ENDPOINTS: list[tuple[str, str, str, str | None, bool, int]] = [
    ("get", "/matters", "事项目录（可按部门 department、服务对象 target 筛选）", None, False, 200),
    ("get", "/matters/{code}", "事项的完整办事指南（GB/T 36114）", None, False, 200),
    (
        "get",
        "/defects",
        "预审员在补正告知书中可引用的问题代码",
        None,
        False,
        200,
    ),
    (
        "post",
        "/cases",
        "为某事项创建办件（草稿）；带 Idempotency-Key 头时，24 小时内以同一 Key 重试"
        "返回同一办件（200），同一 Key 换了请求内容则拒绝（422）",
        "CreateCase",
        True,
        201,
    ),
    (
        "get",
        "/cases",
        "我的办件，或预审员的待办队列（state、matter、page、size）",
        None,
        True,
        200,
    ),
    (
        "get",
        "/cases/{number}",
        "单个办件：材料清单与工作日时限",
        None,
        True,
        200,
    ),
    ("get", "/cases/{number}/history", "办件的全部操作记录", None, True, 200),
    ("put", "/cases/{number}/materials/{slot}", "向某材料项上传照片或 PDF", None, True, 200),
    (
        "get",
        "/cases/{number}/materials/{slot}/link",
        "材料文件的五分钟有效链接（每次查看均留痕；督办人员、管理员须以 reason 写明原因）",
        None,
        True,
        200,
    ),
    (
        "get",
        "/cases/{number}/payments",
        "办件的收费项目（含依据）、缴费记录与台账",
        None,
        True,
        200,
    ),
    (
        "post",
        "/cases/{number}/payments",
        "发起缴纳目录公布的费用：返回 30 分钟内有效的收银台地址",
        None,
        True,
        201,
    ),
    (
        "post",
        "/cases/{number}/submit",
        "提交（补正后重新提交）",
        "Versioned",
        True,
        200,
    ),
    (
        "post",
        "/cases/{number}/return",
        "退回补正，一次性告知全部问题",
        "ReturnBody",
        True,
        200,
    ),
    ("post", "/cases/{number}/approve", "预审通过", "Versioned", True, 200),
    (
        "post",
        "/cases/{number}/reject",
        "不予许可，须写明理由和法律依据",
        "RejectBody",
        True,
        200,
    ),
    (
        "post",
        "/cases/{number}/accept",
        "受理（作出决定的期限自受理之日起计算）",
        "Versioned",
        True,
        200,
    ),
    (
        "post",
        "/cases/{number}/refuse",
        "不予受理，须写明理由和法律依据",
        "RejectBody",
        True,
        200,
    ),
    (
        "post",
        "/cases/{number}/extend",
        "经本机关负责人批准延长办理期限十个工作日（只能一次）",
        "ExtendBody",
        True,
        200,
    ),
    (
        "post",
        "/cases/{number}/pause",
        "第四十五条所列程序（听证、检验、专家评审等）暂停计时",
        "PauseBody",
        True,
        200,
    ),
    ("post", "/cases/{number}/resume", "恢复计时", "Versioned", True, 200),
    (
        "post",
        "/cases/{number}/actions/{action}",
        "执行办件流程操作（如撤回、出证、寄送）",
        "ActionBody",
        True,
        200,
    ),
    ("get", "/calendar/overrides", "工作日历调整（按年份）", None, True, 200),
    (
        "put",
        "/calendar/overrides/{day}",
        "设置某日为工作日或休息日（管理员）",
        "CalendarOverride",
        True,
        200,
    ),
    ("get", "/calendar/years", "今明两年工作日历的来源（法定数据、已确认或暂定）", None, True, 200),
    (
        "put",
        "/calendar/years/{year}",
        "确认某年的放假安排已全部录入（管理员）",
        "YearConfirmation",
        True,
        200,
    ),
]

ERRORS = {
    400: "请求体或查询参数格式错误",
    401: "令牌缺失、过期或伪造",
    403: "您的角色无权执行此操作",
    404: "事项或办件不存在（或不属于您）",
    409: "当前状态不允许该操作，或版本已过期（请刷新）",
    413: "请求体超过大小限制",
    422: "字段不符合规则",
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
            "responses": {str(ok): {"description": "成功"}}
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
