"""JSON request and response helpers shared by the sample service's handlers."""

from __future__ import annotations

import json

from aiohttp import web


def json_response(data, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, default=str), status=status, content_type="application/json")


async def json_body(request: web.Request) -> dict:
    """The request's JSON object; 400 when the body is not JSON or not an object."""
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "body must be JSON"}', content_type="application/json")
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "body must be a JSON object"}', content_type="application/json")
    return body
