"""Reading XRPC parameters and bodies, refusing bad ones as the XRPC server does."""

from __future__ import annotations

from typing import Any

from chatbot.sandbox.web import HttpError, Request


def required(request: Request, name: str) -> str:
    value = request.arg(name)
    if value is None or value == "":
        raise HttpError(400, "InvalidRequest", f'Error: Params must have the property "{name}"')
    return value


def integer(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(400, "InvalidRequest", f"Error: {name} must be an integer") from None
    if value < low:
        raise HttpError(400, "InvalidRequest", f"Error: {name} can not be less than {low}")
    if value > high:
        raise HttpError(400, "InvalidRequest", f"Error: {name} can not be greater than {high}")
    return value


def boolean(request: Request, name: str) -> bool:
    return (request.arg(name) or "").lower() == "true"


def body(request: Request) -> dict[str, Any]:
    data = request.json()
    if not isinstance(data, dict):
        raise HttpError(400, "InvalidRequest", "Error: Input must be an object")
    return data


def field(data: dict[str, Any], name: str) -> Any:
    value = data.get(name)
    if value is None:
        raise HttpError(400, "InvalidRequest", f'Error: Input must have the property "{name}"')
    return value


__all__ = ["body", "boolean", "field", "integer", "required"]
