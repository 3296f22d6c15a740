"""POST /oauth/token: client credentials grant (credentials in the form or HTTP Basic)."""

from __future__ import annotations

import base64
from typing import Any

from connexion import request

from .. import state as st
from ..services.errors import Unauthorized
from ..services.parties import issue_token
from .common import one


def _basic() -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        raise Unauthorized("malformed Basic credentials") from None
    return user, password


def createToken(body: dict[str, Any]) -> Any:
    creds = _basic() or (body.get("client_id"), body.get("client_secret"))
    if not creds[0] or not creds[1]:
        raise Unauthorized(
            "client authentication failed: give client_id and client_secret (form or HTTP Basic)"
        )
    token = issue_token(st.ports(), creds[0], creds[1], body.get("scope"))
    return one(token, 200, **{"Cache-Control": "no-store"})
