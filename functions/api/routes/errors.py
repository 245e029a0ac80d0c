"""The one error shape, everywhere: {"error": {"code", "message", "details": [{"field", "message"}]}}.

`details` is always a list of problems; each names the request field at fault (or null when no one
field is) and says what is wrong, and may carry more context (the id of the existing contact on a 409,
the seconds to wait on a 429). On the legacy /api/messages routes, fields carry their legacy names.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from wacast.domain.errors import RateLimited, WacastError
from wacast.observability import logger

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


#: The legacy routes' request fields, by the name the services use for them.
LEGACY_PREFIX = "/api/messages/"
LEGACY_FIELDS = {
    "send_at": "scheduledTime",
    "sender_id": "senderId",
    "campaign_id": "campaignId",
    "delay_ms": "delayMs",
    "media_url": "mediaUrl",
    "idempotency_key": "idempotencyKey",
    "job_id": "jobId",
}


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    field: str | None = Field(description="the request field at fault, or null when no one field is")
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="stable and machine-readable: validation_error, not_found, conflict...")
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    request: Request | None = None,
) -> JSONResponse:
    problems = details if details is not None else [{"field": None, "message": message}]
    if request is not None and request.url.path.startswith(LEGACY_PREFIX):
        message, problems = _legacy(message), [_legacy_detail(p) for p in problems]
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=[ErrorDetail(**p) for p in problems]))
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"), headers=headers)


def _legacy(text: str) -> str:
    return re.sub(r"\b(" + "|".join(LEGACY_FIELDS) + r")\b", lambda m: LEGACY_FIELDS[m.group(1)], text)


def _legacy_detail(problem: dict[str, Any]) -> dict[str, Any]:
    field = problem.get("field")
    return {
        **problem,
        "field": LEGACY_FIELDS.get(field, field) if field else field,
        "message": _legacy(problem["message"]),
    }


def details_of(exc: WacastError) -> list[dict[str, Any]]:
    """A domain error's details as the list of problems: its `field` and context, with its message."""
    raw = exc.details
    if isinstance(raw, list):
        return [p if isinstance(p, dict) and "message" in p else {"field": None, "message": str(p)} for p in raw]
    context = dict(raw) if isinstance(raw, dict) else ({} if raw is None else {"value": raw})
    field = context.pop("field", None) or getattr(exc, "field", None)
    return [{"field": field, "message": exc.message, **context}]


def _field(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def _problem(error: Any) -> dict[str, Any]:
    if error.get("type") == "json_invalid":  # the body is not JSON: loc holds a character position
        position = error.get("loc", ("body", "?"))[-1]
        reason = (error.get("ctx") or {}).get("error", "not valid JSON")
        return {"field": None, "message": f"the request body is not valid JSON ({reason} at character {position})"}
    return {"field": _field(tuple(error.get("loc", ()))), "message": error.get("msg", "")}


async def _wacast_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WacastError)
    headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, RateLimited) else None
    return error_response(exc.status, exc.code, exc.message, details_of(exc), headers, request)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(e) for e in exc.errors()] or [{"field": None, "message": "invalid request"}]
    first = problems[0]
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return error_response(422, "validation_error", message, problems, request=request)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc.detail), request=request)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error")
    return error_response(500, "internal_error", "something went wrong on our side", request=request)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(WacastError, _wacast_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


#: For `responses=` on routes, so OpenAPI documents the error shape.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422, 429)
}
#: For the file upload route: a file above the size limit.
TOO_LARGE: dict[int | str, dict[str, Any]] = {413: {"model": ErrorResponse}}
