"""Errors mapped once: the service layer's error kinds (and HTTP errors) become
``{"error", "message", "fields"}`` JSON under ``/api/`` (contract §4) and a
page elsewhere."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template_string, request
from werkzeug.exceptions import HTTPException

from matching.exceptions import BadInput, Busy, ECIFError

__all__ = ["init_app", "error_response"]

_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{{ status }} · ECIF</title></head><body><h1>{{ title }}</h1><p>{{ message }}</p>
<p><a href="/">返回首页</a></p></body></html>"""
_TITLES = {400: "请求有误", 401: "请先登录", 403: "无权操作", 404: "未找到", 409: "操作冲突",
           413: "请求过大", 429: "请求过于频繁", 503: "系统忙，请稍后再试"}


def error_response(status: int, code: str, message: str,
                   fields: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """The one JSON error shape of the API."""
    body: dict[str, Any] = {"error": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.is_json


def _page(status: int, message: str) -> tuple[str, int]:
    return render_template_string(_PAGE, status=status, message=message,
                                  title=_TITLES.get(status, "出错了")), status


def init_app(app: Flask) -> None:
    @app.errorhandler(ECIFError)
    def _service_error(exc: ECIFError) -> Any:
        status = exc.http_status if exc.http_status != 500 else 500
        headers = {"Retry-After": "60"} if isinstance(exc, Busy) else None
        if status == 500:
            app.logger.exception("unexpected service error")
        if _wants_json():
            fields = exc.fields if isinstance(exc, BadInput) else None
            return error_response(status, exc.code, str(exc), fields, headers)
        return _page(status, str(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if _wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            headers = dict(exc.get_response().headers) if status in (405, 429) else None
            if headers:
                headers = {k: v for k, v in headers.items() if k in ("Allow", "Retry-After")}
            return error_response(status, code, exc.description or exc.name or "error",
                                  headers=headers)
        return _page(status, exc.description or "")
